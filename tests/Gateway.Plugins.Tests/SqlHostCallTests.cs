using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Backends;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary><c>proxy_sql_call</c> against a private PostgreSQL cluster, through the backends' SQL database.</summary>
public sealed class SqlHostCallTests
{
    [Fact]
    public async Task SqlCall_NamedStatement_ReturnsRowsThroughTheCallback()
    {
        using var postgres = PostgresCluster.Start();
        postgres.Execute("CREATE TABLE api_keys (key text PRIMARY KEY, tier text NOT NULL); INSERT INTO api_keys VALUES ('k1', 'gold'), ('k''; DROP TABLE api_keys; --', 'sneaky');");
        await using var backends = BackendRegistry.Create([],
            [new DatabaseOptions
            {
                Name = "accounts",
                ConnectionString = $"Host=127.0.0.1;Port={postgres.Port};Database=postgres;Username=postgres",
                TimeoutMs = 5000,
                Statements = new Dictionary<string, StatementOptions> { ["find_tier"] = new() { Sql = "SELECT tier FROM api_keys WHERE key = $1" } },
            }],
            new CapturingLoggerFactory());
        Assert.Empty(await backends.CheckAsync(TestContext.Current.CancellationToken));
        var options = Plugin("keys", "behaviors", "sql find_tier");
        using var runtime = PluginRuntime.Load([options, Plugin("bad", "behaviors", "sql no_such_statement")],
            new PluginServices { LoggerFactory = new CapturingLoggerFactory(), Backends = backends }, out var errors);
        Assert.Empty(errors);
        using var loop = new Gateway.Http.Transport.WorkerLoop(0);
        var results = await loop.RunOnWorker(async () =>
        {
            using var worker = runtime.CreateWorker(loop);
            var seen = new List<string?>();
            foreach (var (plugin, key) in new[] { ("keys", "k1"), ("keys", "missing"), ("keys", "k'; DROP TABLE api_keys; --"), ("bad", "k1") })
            {
                var request = Get("/", ("x-key", key));
                var stream = worker.BeginStream([plugin], Info());
                var outcome = await stream.OnRequestHeadersAsync(request, true);
                Assert.Equal(FilterAction.Continue, outcome.Action);
                stream.Complete();
                seen.Add(request.Headers.Get("x-sql"));
            }
            return seen;
        });
        // status:rows:first cell; the metacharacters are just a key; an unknown statement is NOT_FOUND at dispatch.
        Assert.Equal(["0:1:gold", "0:0:", "0:1:sneaky", "dispatch 1"], results);
    }
}

/// <summary>A throw-away PostgreSQL cluster (initdb in a temp directory, trust auth on loopback), stopped with pg_ctl.</summary>
internal sealed class PostgresCluster : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly DirectoryInfo _directory;

    private PostgresCluster(DirectoryInfo directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    private string Data => Path.Combine(_directory.FullName, "data");

    public static PostgresCluster Start()
    {
        var directory = Directory.CreateTempSubdirectory("gateway-plugins-pg-");
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }
        var cluster = new PostgresCluster(directory, port);
        if (Environment.UserName == "root")
        {
            Run("chown", ["-R", "postgres:postgres", directory.FullName], asPostgres: false);
        }
        Run(Path.Combine(Bin, "initdb"), ["-D", cluster.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        Run(Path.Combine(Bin, "pg_ctl"), ["-D", cluster.Data, "-l", Path.Combine(directory.FullName, "log"), "-w", "-t", "30",
            "-o", $"-p {port} -k {directory.FullName} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]);
        return cluster;
    }

    public void Execute(string sql) =>
        Run("psql", ["-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql]);

    public void Dispose()
    {
        try
        {
            Run(Path.Combine(Bin, "pg_ctl"), ["-D", Data, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            _directory.Delete(recursive: true);
        }
    }

    private static void Run(string program, string[] arguments, bool asPostgres = true)
    {
        var start = asPostgres && Environment.UserName == "root"
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", program, .. arguments])
            : new ProcessStartInfo(program, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {errors} {output.Result}");
        }
    }
}
