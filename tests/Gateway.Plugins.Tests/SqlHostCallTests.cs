using Gateway.Backends;
using Gateway.Plugins.Runtime;
using Gateway.Testing.Sql;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary><c>proxy_sql_call</c> against a private PostgreSQL cluster, through the backends' SQL database.</summary>
public sealed class SqlHostCallTests
{
    [Fact]
    public async Task SqlCall_NamedStatement_ReturnsRowsThroughTheCallback()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.SqlAsync("CREATE TABLE api_keys (key text PRIMARY KEY, tier text NOT NULL); ALTER TABLE api_keys OWNER TO gateway; " +
            "INSERT INTO api_keys VALUES ('k1', 'gold'), ('k''; DROP TABLE api_keys; --', 'sneaky');");
        await using var backends = BackendRegistry.Create([],
            [new DatabaseOptions
            {
                Name = "accounts",
                ConnectionString = postgres.ConnectionString,
                Password = postgres.Password,
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
