using System.Globalization;
using Gateway.Perf.Load;
using Npgsql;

namespace Gateway.Perf.Runner;

/// <summary>
/// A throw-away PostgreSQL 15 cluster on loopback with trust authentication,
/// fsync off (nothing here must survive), and the api_keys table the api_key
/// plugin queries, seeded with keys "key-0", "key-1", ... up to <see cref="SeededKeys"/>.
/// </summary>
public sealed class PostgresService : IDisposable
{
    public const string FindApiKey = "SELECT tenant, plan FROM api_keys WHERE key_hash = $1 AND NOT revoked";
    public const string Binaries = "/usr/lib/postgresql/15/bin";
    private readonly string _data;
    private readonly bool _asPostgresUser;

    private PostgresService(string data, bool asPostgresUser, int port, int pid, long seededKeys)
    {
        SeededKeys = seededKeys;
        _data = data;
        _asPostgresUser = asPostgresUser;
        Port = port;
        Pid = pid;
    }

    public int Port { get; }

    public int Pid { get; }

    public long SeededKeys { get; }

    /// <summary>The harness's own connections are not pooled (one each, closed after use); the gateway's are.</summary>
    public static string ConnectionString(int port, bool pooling = false) =>
        $"Host=127.0.0.1;Port={port};Database=gw;Username=gateway" + (pooling ? "" : ";Pooling=false");

    public static PostgresService Start(string folder, long seededKeys)
    {
        if (!File.Exists(Path.Combine(Binaries, "postgres")))
        {
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({Binaries}/postgres missing)");
        }
        // PostgreSQL refuses to run as root; as root, run its tools as the postgres user.
        var asPostgresUser = Environment.UserName == "root";
        var root = Path.Combine(folder, "pg");
        Directory.CreateDirectory(root);
        if (asPostgresUser)
        {
            ExternalCommand.Check(ExternalCommand.Run("chown", ["postgres:postgres", root]), "chown");
        }
        var data = Path.Combine(root, "data");
        ExternalCommand.Check(Tool(asPostgresUser, "initdb", ["-D", data, "-U", "gateway", "--auth=trust", "--no-sync", "-E", "UTF8"]), "initdb");
        var port = FreePort.Next();
        var options = $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " +
                      "-c full_page_writes=off -c shared_buffers=64MB -c max_connections=100";
        // taskset first: pg_ctl and the postmaster it forks inherit CPU 0.
        var start = asPostgresUser
            ? ExternalCommand.Run("taskset", ["-c", "0", "runuser", "-u", "postgres", "--", Path.Combine(Binaries, "pg_ctl"),
                "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-o", options, "start"])
            : ExternalCommand.Run("taskset", ["-c", "0", Path.Combine(Binaries, "pg_ctl"),
                "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-o", options, "start"]);
        ExternalCommand.Check(start, "pg_ctl start");
        var pid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        var service = new PostgresService(data, asPostgresUser, port, pid, seededKeys);
        try
        {
            service.Seed();
        }
        catch
        {
            service.Dispose();
            throw;
        }
        return service;
    }

    private void Seed()
    {
        using (var admin = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Database=postgres;Username=gateway;Pooling=false"))
        {
            admin.Open();
            using var create = new NpgsqlCommand("CREATE DATABASE gw", admin);
            create.ExecuteNonQuery();
        }
        using var connection = new NpgsqlConnection(ConnectionString(Port));
        connection.Open();
        // key_hash is the lower-case hex SHA-256 of the key, as the api_key plugin computes it.
        using var seed = new NpgsqlCommand($"""
            CREATE TABLE api_keys (key_hash text PRIMARY KEY, tenant text NOT NULL, plan text NOT NULL,
                                   revoked boolean NOT NULL DEFAULT false);
            INSERT INTO api_keys (key_hash, tenant, plan)
                SELECT encode(sha256(convert_to('key-' || i, 'UTF8')), 'hex'), 'tenant-' || (i % 100), 'pro'
                FROM generate_series(0, {SeededKeys - 1}) AS i;
            ANALYZE api_keys;
            """, connection);
        seed.CommandTimeout = 120;
        seed.ExecuteNonQuery();
    }

    /// <summary>The physical floor of a key lookup: the plugin's prepared statement, one round trip at a time.</summary>
    public LatencySummary MeasureRoundTrips(int samples)
    {
        using var connection = new NpgsqlConnection(ConnectionString(Port));
        connection.Open();
        using var command = new NpgsqlCommand(FindApiKey, connection);
        var keyHash = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        keyHash.Value = "0";
        command.Prepare();
        return KeyLookupFloor.Measure(command, keyHash, SeededKeys, samples);
    }

    private static (int, string) Tool(bool asPostgresUser, string tool, string[] arguments) =>
        asPostgresUser
            ? ExternalCommand.Run("runuser", ["-u", "postgres", "--", Path.Combine(Binaries, tool), .. arguments])
            : ExternalCommand.Run(Path.Combine(Binaries, tool), arguments);

    public void Dispose() => Tool(_asPostgresUser, "pg_ctl", ["-D", _data, "-m", "immediate", "-w", "stop"]);
}
