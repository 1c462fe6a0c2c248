using Gateway.Perf.Load;
using MySqlConnector;

namespace Gateway.Perf.Runner;

/// <summary>
/// A throw-away MariaDB server on loopback, pinned to CPU 0 like the other services, with the same
/// api_keys table as <see cref="PostgresService"/> ("key-0", "key-1", …, hashed by SHA2), so the
/// api_key miss scenario can run on the <c>mysql</c> provider beside PostgreSQL.
/// </summary>
public sealed class MariaDbService : IDisposable
{
    public const string FindApiKey = "SELECT tenant, plan FROM api_keys WHERE key_hash = ? AND NOT revoked";
    private readonly ChildProcess _server;
    private readonly string _socket;

    private MariaDbService(ChildProcess server, string socket, int port, long seededKeys)
    {
        _server = server;
        _socket = socket;
        Port = port;
        SeededKeys = seededKeys;
    }

    public int Port { get; }

    public long SeededKeys { get; }

    public static string ConnectionString(int port) => $"Server=127.0.0.1;Port={port};Database=gw;User ID=gateway;SSL Mode=None";

    public static MariaDbService Start(string folder, long seededKeys)
    {
        var root = Path.Combine(folder, "mariadb");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        var asRoot = Environment.UserName == "root";
        List<string> install = ["--no-defaults", $"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db"];
        if (asRoot)
        {
            install.Add("--user=root");
        }
        ExternalCommand.Check(ExternalCommand.Run("mariadb-install-db", install, TimeSpan.FromSeconds(120)), "mariadb-install-db");
        var port = FreePort.Next();
        var socket = Path.Combine(root, "mariadb.sock");
        List<string> arguments =
        [
            "--no-defaults", $"--datadir={data}", $"--port={port}", "--bind-address=127.0.0.1", $"--socket={socket}",
            $"--pid-file={Path.Combine(root, "mariadb.pid")}", "--skip-name-resolve", "--skip-log-bin",
            "--innodb-buffer-pool-size=128M", "--innodb-flush-log-at-trx-commit=0", "--max-connections=200",
        ];
        if (asRoot)
        {
            arguments.Add("--user=root");
        }
        var server = ChildProcess.Start("mariadb", 0, "mariadbd", arguments, root);
        var service = new MariaDbService(server, socket, port, seededKeys);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (service.Sql("SELECT 1", "mysql").ExitCode != 0)
            {
                if (DateTime.UtcNow > deadline || server.HasExited)
                {
                    throw new InvalidOperationException("mariadbd did not start: " + server.Tail());
                }
                Thread.Sleep(100);
            }
            ExternalCommand.Check(service.Sql($"""
                CREATE DATABASE gw; CREATE USER 'gateway'@'%'; GRANT ALL ON gw.* TO 'gateway'@'%';
                USE gw;
                CREATE TABLE api_keys (key_hash CHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, plan VARCHAR(32) NOT NULL,
                                       revoked BOOL NOT NULL DEFAULT FALSE);
                INSERT INTO api_keys SELECT SHA2(CONCAT('key-', seq), 256), CONCAT('tenant-', seq % 100), 'pro', FALSE FROM seq_0_to_{seededKeys - 1};
                ANALYZE TABLE api_keys;
                """, "mysql"), "seeding MariaDB");
        }
        catch
        {
            service.Dispose();
            throw;
        }
        return service;
    }

    /// <summary>The physical floor of a key lookup on MariaDB: the same statement, one round trip at a time.</summary>
    public LatencySummary MeasureRoundTrips(int samples)
    {
        using var connection = new MySqlConnection(ConnectionString(Port) + ";Pooling=false");
        connection.Open();
        using var command = new MySqlCommand(FindApiKey, connection);
        var keyHash = command.Parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.VarChar });
        return KeyLookupFloor.Measure(command, keyHash, SeededKeys, samples);
    }

    private (int ExitCode, string Output) Sql(string sql, string database) =>
        ExternalCommand.Run("mariadb", ["--no-defaults", $"--socket={_socket}", "-uroot", "-e", sql, database], TimeSpan.FromSeconds(300));

    public void Dispose() => _server.Dispose();
}
