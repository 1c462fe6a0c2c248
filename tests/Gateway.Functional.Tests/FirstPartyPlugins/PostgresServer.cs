using System.Diagnostics;
using Gateway.Testing;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// A throw-away PostgreSQL 15 cluster: initdb in a temporary folder (as the <c>postgres</c> user when the
/// tests run as root, since postgres refuses to run as root), a postmaster on a free loopback port with
/// password (SCRAM) authentication over TCP, and a role <see cref="User"/> owning database
/// <see cref="Database"/>. Administration goes through psql over the cluster's private Unix socket.
/// The postmaster is stopped by the PID in its postmaster.pid.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private static readonly bool RunningAsRoot = Environment.UserName == "root";

    private readonly string _root;
    private Process? _launcher;

    private PostgresServer(string root, int port)
    {
        _root = root;
        Port = port;
    }

    public int Port { get; }

    public string User => "gateway";

    public string Password => "gateway-test-password";

    public string Database => "gw";

    /// <summary>For the gateway's <c>databases.&lt;name&gt;.connectionString</c> (the password goes separately).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Database={Database};Username={User}";

    private string DataDirectory => Path.Combine(_root, "data");

    private string SocketDirectory => _root;

    public static async Task<PostgresServer> StartAsync()
    {
        string root = Directory.CreateTempSubdirectory("gateway-pg-").FullName;
        var server = new PostgresServer(root, GatewayProcess.FreePort());
        try
        {
            if (RunningAsRoot)
            {
                await RunAsync("chown", "-R", "postgres:postgres", root);
            }
            await RunAsync(Tool("initdb"), "-D", server.DataDirectory, "-U", "postgres", "--auth-local=trust",
                "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8");
            await server.RestartAsync();
            await server.SqlAsync($"CREATE ROLE {server.User} LOGIN PASSWORD '{server.Password}'", database: "postgres");
            await server.SqlAsync($"CREATE DATABASE {server.Database} OWNER {server.User}", database: "postgres");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the postmaster (again, same port and data) and waits until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        string[] command =
        [
            Path.Combine(BinDirectory, "postgres"), "-D", DataDirectory, "-p", Port.ToString(), "-k", SocketDirectory,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
        ];
        _launcher = Process.Start(StartInfo(command))!;
        _launcher.OutputDataReceived += (_, _) => { };
        _launcher.ErrorDataReceived += (_, _) => { };
        _launcher.BeginOutputReadLine();
        _launcher.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await TryRunAsync(Tool("pg_isready"), "-h", SocketDirectory, "-p", Port.ToString()) != 0)
        {
            if (DateTime.UtcNow > deadline || _launcher.HasExited)
            {
                throw new InvalidOperationException("postgres did not start on port " + Port);
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Stops the postmaster by its PID (immediate shutdown: an outage) and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        string pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).First(), out int pid))
        {
            using var postmaster = TryGetProcess(pid);
            if (postmaster is not null)
            {
                Signal(pid, 3); // SIGQUIT: immediate shutdown
                await postmaster.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        if (_launcher is not null)
        {
            await _launcher.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            _launcher.Dispose();
            _launcher = null;
        }
    }

    /// <summary>Runs SQL as the superuser over the private socket; returns psql's unaligned output.</summary>
    public Task<string> SqlAsync(string sql, string? database = null) =>
        RunAsync("psql", "-h", SocketDirectory, "-p", Port.ToString(), "-U", "postgres", "-d", database ?? Database,
            "-v", "ON_ERROR_STOP=1", "-A", "-t", "-c", sql);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static string Tool(string name) => Path.Combine(BinDirectory, name);

    private static ProcessStartInfo StartInfo(string[] command)
    {
        // The server tools refuse to run as root: run them as postgres, without a login shell.
        bool asPostgres = RunningAsRoot && command[0].StartsWith(BinDirectory, StringComparison.Ordinal);
        var info = new ProcessStartInfo(asPostgres ? "runuser" : command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asPostgres)
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add("postgres");
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(command[0]);
        }
        foreach (string argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }

    private static async Task<string> RunAsync(params string[] command)
    {
        using var process = Process.Start(StartInfo(command))!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} failed ({process.ExitCode}):\n{await stderr}");
        }
        return (await stdout).Trim();
    }

    private static async Task<int> TryRunAsync(params string[] command)
    {
        using var process = Process.Start(StartInfo(command))!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return process.ExitCode;
    }

    private static Process? TryGetProcess(int pid)
    {
        try
        {
            return Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);
}
