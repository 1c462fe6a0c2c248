using System.Diagnostics;

namespace Gateway.Testing.Sql;

/// <summary>
/// A throw-away MariaDB server: <c>mariadb-install-db</c> into a temporary folder, <c>mariadbd</c> on a
/// free loopback port (as root with <c>--user=root</c> when the tests run as root), its socket and
/// PID file in that folder, a database <see cref="Database"/> owned by <see cref="User"/> (password
/// authentication over TCP). Administration goes through the <c>mariadb</c> client over the private
/// socket as root. Stopped by the PID in its PID file.
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    private readonly string _root;
    private string[] _extraOptions = [];
    private Process? _server;

    private MariaDbServer(string root, int port)
    {
        _root = root;
        Port = port;
    }

    public int Port { get; }

    public string User => "gateway";

    /// <summary>Current password of <see cref="User"/>.</summary>
    public string Password { get; private set; } = "Maria-Secret-Initial-7e21";

    public string Database => "gw";

    /// <summary>For the gateway's <c>databases.&lt;name&gt;.connectionString</c> (the password goes separately).</summary>
    public string ConnectionString => $"Server=127.0.0.1;Port={Port};Database={Database};User ID={User};SSL Mode=None";

    public string DataDirectory => Path.Combine(_root, "data");

    private string Socket => Path.Combine(_root, "mariadb.sock");

    private string PidFile => Path.Combine(_root, "mariadb.pid");

    public static async Task<MariaDbServer> StartAsync(IEnumerable<string>? extraServerOptions = null)
    {
        var root = Directory.CreateTempSubdirectory("gateway-mariadb-").FullName;
        var server = new MariaDbServer(root, ServerProcess.FreePort()) { _extraOptions = [.. extraServerOptions ?? []] };
        try
        {
            List<string> install = ["--no-defaults", $"--datadir={server.DataDirectory}", "--auth-root-authentication-method=normal", "--skip-test-db"];
            if (ServerProcess.IsRoot)
            {
                install.Add("--user=root");
            }

            await ServerProcess.RunAsync("mariadb-install-db", install, timeout: TimeSpan.FromSeconds(120));
            await server.RestartAsync();
            await server.SqlAsync(
                $"CREATE DATABASE {server.Database}; CREATE USER '{server.User}'@'%' IDENTIFIED BY '{server.Password}'; " +
                $"GRANT ALL ON {server.Database}.* TO '{server.User}'@'%';", database: "mysql");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts mariadbd (again, same port and data) and waits until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        List<string> arguments =
        [
            "--no-defaults", $"--datadir={DataDirectory}", $"--port={Port}", "--bind-address=127.0.0.1", $"--socket={Socket}",
            $"--pid-file={PidFile}", $"--log-error={Path.Combine(_root, "error.log")}", "--skip-name-resolve", "--skip-log-bin",
            "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M", "--max-connections=400", "--character-set-server=utf8mb4",
        ];
        if (ServerProcess.IsRoot)
        {
            arguments.Add("--user=root");
        }

        arguments.AddRange(_extraOptions);
        _server = ServerProcess.Launch("mariadbd", arguments);
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(Socket) || !await ServerProcess.CanConnectAsync(Port))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(180) || _server.HasExited)
            {
                var log = Path.Combine(_root, "error.log");
                throw new InvalidOperationException($"mariadbd did not start on port {Port}: {(File.Exists(log) ? await File.ReadAllTextAsync(log) : "no log")}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Stops mariadbd by its PID: SIGKILL for an outage (the default), SIGTERM for a clean shutdown.</summary>
    public async Task StopAsync(bool clean = false)
    {
        if (File.Exists(PidFile) && int.TryParse((await File.ReadAllTextAsync(PidFile)).Trim(), out var pid))
        {
            await ServerProcess.SignalAndWaitAsync(pid, clean ? 15 : 9, TimeSpan.FromSeconds(60));
            File.Delete(PidFile);
        }

        if (_server is not null)
        {
            await _server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            _server.Dispose();
            _server = null;
        }
    }

    /// <summary>Runs SQL as root over the private socket; returns the tab-separated rows without a header.</summary>
    public Task<string> SqlAsync(string sql, string? database = null) =>
        ServerProcess.RunAsync("mariadb", ["--no-defaults", $"--socket={Socket}", "-uroot", "-N", "-B", "-e", sql, database ?? Database]);

    public async Task ChangePasswordAsync(string password)
    {
        await SqlAsync($"ALTER USER '{User}'@'%' IDENTIFIED BY '{password}'");
        Password = password;
    }

    /// <summary>Statements of <see cref="User"/> the server is still running whose text starts with <paramref name="prefix"/>.</summary>
    public async Task<int> RunningStatementsAsync(string prefix) =>
        int.Parse(await SqlAsync($"SELECT COUNT(*) FROM information_schema.processlist WHERE user = '{User}' AND info LIKE '{prefix.Replace("'", "''")}%'"));

    /// <summary>
    /// Stops the whole server (one process): its statements neither end nor see a cancel (KILL QUERY) until
    /// disposal, and nothing, not even <see cref="SqlAsync"/>, is answered meanwhile.
    /// </summary>
    public SuspendedProcess Suspend() => new(int.Parse(File.ReadAllText(PidFile).Trim()));

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
        }
    }
}
