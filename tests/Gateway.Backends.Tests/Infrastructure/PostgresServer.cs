using Npgsql;

namespace Gateway.Backends.Tests;

/// <summary>
/// A private PostgreSQL 15 cluster (initdb into a temp dir, its own port and socket dir), run as the
/// postgres OS user when the tests run as root. Stopped with pg_ctl on its own data directory.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string GatewayUser = "gateway";
    // Debian's PostgreSQL 15 server binaries; PG_BIN overrides for other layouts.
    private static readonly string BinDirectory = Environment.GetEnvironmentVariable("PG_BIN") ?? "/usr/lib/postgresql/15/bin";
    private const string OsUser = "postgres";

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gw-pg-");

    public int Port { get; } = FreePort.Next();

    private string DataDirectory => Path.Combine(_directory.FullName, "data");

    private string SocketDirectory => _directory.FullName;

    /// <summary>Current password of the <c>gateway</c> role (scram-sha-256 over TCP).</summary>
    public string GatewayPassword { get; private set; } = "Pg-Secret-Initial-51c9";

    /// <summary>Connection string without a password, as the gateway's configuration holds it.</summary>
    public string GatewayConnectionString => $"Host=127.0.0.1;Port={Port};Database=gw;Username={GatewayUser};Pooling=true";

    public async ValueTask InitializeAsync()
    {
        if (ProcessRunner.IsRoot)
        {
            await ProcessRunner.RunAsync("chown", ["-R", $"{OsUser}:{OsUser}", _directory.FullName]);
        }

        await ProcessRunner.RunAsync(Path.Combine(BinDirectory, "initdb"),
            ["-D", DataDirectory, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"], OsUser);
        await StartAsync();
        await using var admin = AdminDataSource("postgres");
        await admin.CreateCommand("CREATE DATABASE gw").ExecuteNonQueryAsync();
        await admin.CreateCommand($"CREATE ROLE {GatewayUser} LOGIN PASSWORD '{GatewayPassword}'").ExecuteNonQueryAsync();
        await admin.CreateCommand($"ALTER DATABASE gw OWNER TO {GatewayUser}").ExecuteNonQueryAsync();
    }

    public Task StartAsync() => ProcessRunner.RunAsync(Path.Combine(BinDirectory, "pg_ctl"),
        ["-D", DataDirectory, "-l", Path.Combine(_directory.FullName, "postgres.log"), "-w", "-t", "30",
         "-o", $"-p {Port} -k {SocketDirectory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start"], OsUser);

    public Task StopAsync() => ProcessRunner.RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], OsUser);

    /// <summary>Superuser access over the private Unix socket (trust), for setting up and for faults.</summary>
    public NpgsqlDataSource AdminDataSource(string database = "gw") =>
        NpgsqlDataSource.Create($"Host={SocketDirectory};Port={Port};Database={database};Username=postgres;Pooling=false");

    public async Task ExecuteAsync(string sql)
    {
        await using var admin = AdminDataSource();
        await admin.CreateCommand(sql).ExecuteNonQueryAsync();
    }

    public async Task ChangeGatewayPasswordAsync(string password)
    {
        await ExecuteAsync($"ALTER ROLE {GatewayUser} PASSWORD '{password}'");
        GatewayPassword = password;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped by a test.
        }

        _directory.Delete(recursive: true);
    }
}
