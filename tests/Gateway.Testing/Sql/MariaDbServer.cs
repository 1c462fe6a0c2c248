using System.Diagnostics;

namespace Gateway.Testing.Sql;

/// <summary>
/// A throw-away MariaDB server: <c>mariadb-install-db</c> into a temporary folder, <c>mariadbd</c> on a
/// free loopback port (as root with <c>--user=root</c> when the tests run as root), its socket and
/// PID file in that folder. Administration goes through the <c>mariadb</c> client over the private
/// socket as root. Stopped by the PID in its PID file.
/// </summary>
public sealed class MariaDbServer : DatabaseServer
{
    private string[] _extraOptions = [];
    private Process? _server;

    private MariaDbServer(string root, int port)
        : base(root, port, "Maria-Secret-Initial-7e21")
    {
    }

    public override string ConnectionString => $"Server=127.0.0.1;Port={Port};Database={Database};User ID={User};SSL Mode=None";

    private string Socket => Path.Combine(Root, "mariadb.sock");

    private string PidFile => Path.Combine(Root, "mariadb.pid");

    public static Task<MariaDbServer> StartAsync(IEnumerable<string>? extraServerOptions = null) =>
        StartOnFreePortAsync(() => StartOnceAsync(extraServerOptions));

    private static async Task<MariaDbServer> StartOnceAsync(IEnumerable<string>? extraServerOptions)
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

    public override async Task RestartAsync()
    {
        List<string> arguments =
        [
            "--no-defaults", $"--datadir={DataDirectory}", $"--port={Port}", "--bind-address=127.0.0.1", $"--socket={Socket}",
            $"--pid-file={PidFile}", $"--log-error={Path.Combine(Root, "error.log")}", "--skip-name-resolve", "--skip-log-bin",
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
                var log = Path.Combine(Root, "error.log");
                throw new InvalidOperationException($"mariadbd did not start on port {Port}: {(File.Exists(log) ? await File.ReadAllTextAsync(log) : "no log")}");
            }

            await Task.Delay(50);
        }
    }

    public override async Task StopAsync()
    {
        if (File.Exists(PidFile) && int.TryParse((await File.ReadAllTextAsync(PidFile)).Trim(), out var pid))
        {
            await ServerProcess.SignalAndWaitAsync(pid, 9, TimeSpan.FromSeconds(60)); // SIGKILL
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
    public override Task<string> SqlAsync(string sql, string? database = null) =>
        ServerProcess.RunAsync("mariadb", ["--no-defaults", $"--socket={Socket}", "-uroot", "-N", "-B", "-e", sql, database ?? Database]);

    public override async Task ChangePasswordAsync(string password)
    {
        await SqlAsync($"ALTER USER '{User}'@'%' IDENTIFIED BY '{password}'");
        Password = password;
    }

    public override async Task<int> RunningStatementsAsync(string prefix) =>
        int.Parse(await SqlAsync($"SELECT COUNT(*) FROM information_schema.processlist WHERE user = '{User}' AND info LIKE '{prefix.Replace("'", "''")}%'"));

    public override async Task<int> ConnectionsAsync() =>
        int.Parse(await SqlAsync($"SELECT COUNT(*) FROM information_schema.processlist WHERE user = '{User}'"));

    /// <summary>
    /// Stops the whole server (one process): its statements neither end nor see a cancel (KILL QUERY) until
    /// disposal, and nothing, not even <see cref="SqlAsync"/>, is answered meanwhile.
    /// </summary>
    public SuspendedProcess Suspend() => new(int.Parse(File.ReadAllText(PidFile).Trim()));
}
