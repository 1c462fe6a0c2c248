using System.Diagnostics;
using Gateway.Backends.Sql;
using Gateway.Testing.Sql;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

/// <summary>Limits enforced while results stream, timeouts cancelled server-side, and per-plugin pool shares, on PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLimitsTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly PostgresServer _server = postgres.Server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await _server.SqlAsync(
        "CREATE TABLE IF NOT EXISTS api_keys (key_hash text PRIMARY KEY, tenant text NOT NULL, revoked bool NOT NULL DEFAULT false); " +
        "GRANT ALL ON api_keys TO gateway; INSERT INTO api_keys VALUES ('k1', 'acme', false) ON CONFLICT DO NOTHING;");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private DatabaseOptions Options(string name, int timeoutMs, int maxPoolSize, int share = 0) => new()
    {
        Name = name,
        ConnectionString = _server.ConnectionString,
        Password = _server.Password,
        TimeoutMs = timeoutMs,
        MaxPoolSize = maxPoolSize,
        MaxConnectionsPerPlugin = share,
        Statements = new Dictionary<string, StatementOptions>
        {
            ["find_key"] = new() { Sql = "SELECT tenant FROM api_keys WHERE key_hash = $1 AND NOT revoked" },
            ["slow_miss"] = new() { Sql = "SELECT pg_sleep(0.5) AS slept, (SELECT tenant FROM api_keys WHERE key_hash = $1) AS tenant" },
            ["sleep"] = new() { Sql = "SELECT pg_sleep($1::float8) AS slept" },
            // Streams (a set-returning function in the select list is not materialized first).
            ["huge"] = new() { Sql = "SELECT generate_series(1, 100000000) AS n, repeat('x', 1000) AS filler", MaxResultBytes = 10_000, MaxRows = 1_000_000 },
            ["huge_rows"] = new() { Sql = "SELECT generate_series(1, 100000000) AS n", MaxRows = 5 },
        },
    };

    [Fact]
    public async Task ResultOverTheLimits_IsStoppedEarlyOnTheServer()
    {
        await using var registry = BackendRegistry.Create([], [Options("limits", timeoutMs: 20_000, maxPoolSize: 1)], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(Ct));
        var database = registry.FindDatabase("limits")!;
        var watch = Stopwatch.StartNew();
        var result = await database.ExecuteAsync("huge", default, 0);
        Assert.Equal(SqlCallStatus.ResultTooLarge, result.Status);
        // 100 million rows of 1 kB cannot be read in this time: the reader stopped at the limit.
        Assert.True(watch.ElapsedMilliseconds < 5000, $"took {watch.ElapsedMilliseconds} ms");
        Assert.Equal(0, await _server.RunningStatementsAsync("SELECT generate_series"));

        var rows = await database.ExecuteAsync("huge_rows", default, 0);
        Assert.Equal(SqlCallStatus.Ok, rows.Status);
        Assert.True(SqlWire.Decode(rows.Body).Truncated);
        Assert.Equal(5, rows.RowCount);
        Assert.True(watch.ElapsedMilliseconds < 10_000, $"took {watch.ElapsedMilliseconds} ms");
        Assert.Equal(["acme"], SqlWire.Decode((await database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0)).Body).Rows.Single());
    }

    [Fact]
    public async Task TimedOutStatement_IsCancelledOnTheServer_AndItsSlotFreedOnlyThen()
    {
        await using var registry = BackendRegistry.Create([], [Options("slow", timeoutMs: 300, maxPoolSize: 2, share: 1)], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(Ct));
        var database = registry.FindDatabase("slow")!;
        Assert.Equal(SqlCallStatus.Ok, (await database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0, "p")).Status);
        var ended = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watch = Stopwatch.StartNew();
        var result = await database.ExecuteAsync("sleep", SqlWire.Params(30.0), 0, "p", _ => ended.TrySetResult(0));
        Assert.Equal(SqlCallStatus.Timeout, result.Status);
        Assert.InRange(watch.ElapsedMilliseconds, 290, 1500);

        await ended.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(0, await _server.RunningStatementsAsync("SELECT pg_sleep"));
        Assert.Equal(SqlCallStatus.Ok, (await database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0, "p")).Status);
    }

    [Fact]
    public async Task FloodOfMissesFromOnePlugin_LeavesOtherPluginsTheirConnections()
    {
        var options = Options("shared", timeoutMs: 300, maxPoolSize: 4, share: 2) with { CircuitBreaker = new() { FailureThreshold = 2, OpenMs = 5000 } };
        await using var registry = BackendRegistry.Create([], [options], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(Ct));
        var database = registry.FindDatabase("shared")!;
        Assert.Equal(SqlCallStatus.Ok, (await database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0, "steady")).Status);

        using var stop = new CancellationTokenSource();
        var flood = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var statuses = new List<SqlCallStatus>();
            while (!stop.IsCancellationRequested)
            {
                statuses.Add((await database.ExecuteAsync("slow_miss", SqlWire.Params($"random-{i}-{statuses.Count}"), 0, "flood")).Status);
            }

            return statuses;
        })).ToArray();
        await Task.Delay(300, Ct);

        var steady = new List<SqlCallStatus>();
        for (var i = 0; i < 30; i++)
        {
            steady.Add((await database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0, "steady")).Status);
            await Task.Delay(20, Ct);
        }

        await stop.CancelAsync();
        var floodStatuses = (await Task.WhenAll(flood)).SelectMany(s => s).ToList();
        Assert.All(steady, s => Assert.Equal(SqlCallStatus.Ok, s));
        Assert.Contains(SqlCallStatus.Timeout, floodStatuses);
        Assert.Contains(SqlCallStatus.CircuitOpen, floodStatuses);
    }
}
