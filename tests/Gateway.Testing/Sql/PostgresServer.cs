using System.Diagnostics;

namespace Gateway.Testing.Sql;

/// <summary>
/// A throw-away PostgreSQL 15 cluster: initdb in a temporary folder (as the <c>postgres</c> user when the
/// tests run as root, since postgres refuses to run as root), a postmaster on a free loopback port with
/// password (SCRAM) authentication over TCP. Administration goes through psql over the cluster's private
/// Unix socket. The postmaster is stopped by the PID in its postmaster.pid.
/// </summary>
public sealed class PostgresServer : DatabaseServer
{
    private const string OsUser = "postgres";
    // Debian's PostgreSQL 15 server binaries; PG_BIN overrides for other layouts.
    private static readonly string BinDirectory = Environment.GetEnvironmentVariable("PG_BIN") ?? "/usr/lib/postgresql/15/bin";

    private string[] _settings = [];
    private Process? _postmaster;

    private PostgresServer(string root, int port)
        : base(root, port, "Pg-Secret-Initial-51c9")
    {
    }

    public override string ConnectionString => $"Host=127.0.0.1;Port={Port};Database={Database};Username={User}";

    /// <summary>Gives <paramref name="path"/> to the server's OS user (PostgreSQL refuses a key file others own or can read).</summary>
    public static Task GiveToServerAsync(string path) =>
        ServerProcess.IsRoot ? ServerProcess.RunAsync("chown", ["-R", $"{OsUser}:{OsUser}", path]) : Task.CompletedTask;

    private string SocketDirectory => Root;

    /// <param name="settings">Extra server settings as <c>name=value</c> (each passed with <c>-c</c>).</param>
    public static Task<PostgresServer> StartAsync(IEnumerable<string>? settings = null) =>
        StartOnFreePortAsync(() => StartOnceAsync(settings));

    private static async Task<PostgresServer> StartOnceAsync(IEnumerable<string>? settings)
    {
        var root = Directory.CreateTempSubdirectory("gateway-pg-").FullName;
        var server = new PostgresServer(root, ServerProcess.FreePort()) { _settings = [.. settings ?? []] };
        try
        {
            if (ServerProcess.IsRoot)
            {
                await ServerProcess.RunAsync("chown", ["-R", $"{OsUser}:{OsUser}", root]);
            }

            await ServerProcess.RunAsync(Tool("initdb"),
                ["-D", server.DataDirectory, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
                OsUser);
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

    public override async Task RestartAsync()
    {
        List<string> arguments =
        [
            "-D", DataDirectory, "-p", Port.ToString(), "-k", SocketDirectory, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=300",
        ];
        foreach (var setting in _settings)
        {
            arguments.Add("-c");
            arguments.Add(setting);
        }

        _postmaster = ServerProcess.Launch(Tool("postgres"), arguments, OsUser);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await ServerProcess.RunAsync(Tool("pg_isready"), ["-h", SocketDirectory, "-p", Port.ToString()]);
                return;
            }
            catch (InvalidOperationException) when (deadline.Elapsed < TimeSpan.FromSeconds(30) && !_postmaster.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public override async Task StopAsync()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).First(), out var pid))
        {
            await ServerProcess.SignalAndWaitAsync(pid, 3, TimeSpan.FromSeconds(30)); // SIGQUIT: immediate shutdown
        }

        if (_postmaster is not null)
        {
            await _postmaster.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            _postmaster.Dispose();
            _postmaster = null;
        }
    }

    /// <summary>Runs SQL as the superuser over the private socket; returns psql's unaligned output.</summary>
    public override Task<string> SqlAsync(string sql, string? database = null) =>
        ServerProcess.RunAsync("psql", ["-h", SocketDirectory, "-p", Port.ToString(), "-U", "postgres", "-d", database ?? Database,
            "-v", "ON_ERROR_STOP=1", "-A", "-t", "-c", sql]);

    public override async Task ChangePasswordAsync(string password)
    {
        // The server runs with synchronous_commit=off and StopAsync is an immediate shutdown: without the
        // checkpoint, a stop right after this change could lose it, and the restarted server would refuse
        // the password every later test uses.
        await SqlAsync($"ALTER ROLE {User} PASSWORD '{password}'");
        await SqlAsync("CHECKPOINT");
        Password = password;
    }

    public override async Task<int> RunningStatementsAsync(string prefix) =>
        int.Parse(await SqlAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE usename = '{User}' AND state = 'active' AND query LIKE '{prefix.Replace("'", "''")}%'"));

    public override async Task<int> ConnectionsAsync() =>
        int.Parse(await SqlAsync($"SELECT count(*) FROM pg_stat_activity WHERE usename = '{User}'"));

    /// <summary>
    /// Stops the backend process running <see cref="User"/>'s active statement that starts with
    /// <paramref name="prefix"/>: the statement neither ends nor sees a cancel request until disposal.
    /// </summary>
    public async Task<SuspendedProcess> SuspendStatementAsync(string prefix)
    {
        var pid = int.Parse(await SqlAsync(
            $"SELECT pid FROM pg_stat_activity WHERE usename = '{User}' AND state = 'active' AND query LIKE '{prefix.Replace("'", "''")}%' LIMIT 1"));
        return new SuspendedProcess(pid);
    }

    private static string Tool(string name) => Path.Combine(BinDirectory, name);
}
