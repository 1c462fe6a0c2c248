using System.Diagnostics;
using Gateway.Backends.Sql;
using Gateway.Testing.Sql;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

/// <summary>
/// Limits enforced while results stream, timeouts stopped server-side, and per-plugin pool shares: one scenario per
/// behaviour, run on each provider by the classes below, which give the server and the statements in its SQL.
/// </summary>
public abstract class SqlLimitsTests(DatabaseServer server) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract DatabaseProvider Provider { get; }

    /// <summary>Creates table api_keys (key_hash, tenant, revoked) for the login user, holding key k1 of tenant acme.</summary>
    protected abstract string CreateKeys { get; }

    /// <summary>
    /// find_key (tenant by key hash), slow_miss (a 0.5 s sleep, then find_key's lookup), sleep (the seconds given),
    /// huge (100 million rows of 1 kB) and huge_rows (100 million short rows), each streamed, never materialized.
    /// </summary>
    protected abstract IReadOnlyDictionary<string, string> Statements { get; }

    /// <summary>How the text of the huge statements and of sleep starts, to find them among the server's running statements.</summary>
    protected abstract (string Huge, string Sleep) RunningPrefixes { get; }

    public async ValueTask InitializeAsync() => await server.SqlAsync(CreateKeys);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private DatabaseOptions Options(string name, int timeoutMs, int maxPoolSize, int share = 0) => new()
    {
        Name = name,
        Provider = Provider,
        ConnectionString = server.ConnectionString,
        Password = server.Password,
        TimeoutMs = timeoutMs,
        MaxPoolSize = maxPoolSize,
        MaxConnectionsPerPlugin = share,
        Statements = new Dictionary<string, StatementOptions>
        {
            ["find_key"] = new() { Sql = Statements["find_key"] },
            ["slow_miss"] = new() { Sql = Statements["slow_miss"] },
            ["sleep"] = new() { Sql = Statements["sleep"] },
            ["huge"] = new() { Sql = Statements["huge"], MaxResultBytes = 10_000, MaxRows = 1_000_000 },
            ["huge_rows"] = new() { Sql = Statements["huge_rows"], MaxRows = 5 },
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
        Assert.Equal(0, await server.RunningStatementsAsync(RunningPrefixes.Huge));

        var rows = await database.ExecuteAsync("huge_rows", default, 0);
        Assert.Equal(SqlCallStatus.Ok, rows.Status);
        Assert.True(SqlWire.Decode(rows.Body).Truncated);
        Assert.Equal(5, rows.RowCount);
        Assert.True(watch.ElapsedMilliseconds < 10_000, $"took {watch.ElapsedMilliseconds} ms");
        // The single pooled connection is usable again.
        Assert.Equal(["acme"], SqlWire.Decode((await database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0)).Body).Rows.Single());
    }

    [Fact]
    public async Task StartUpChecks_OpenThePoolsMinimum_WhichTheCallsAfterThemUse()
    {
        // Earlier tests' pools close with their registries; their connections may take a moment to leave the server.
        var watch = Stopwatch.StartNew();
        while (await server.ConnectionsAsync() > 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{await server.ConnectionsAsync()} connections left by earlier tests");
            await Task.Delay(50, Ct);
        }

        await using var registry = BackendRegistry.Create([], [Options("warm", timeoutMs: 5000, maxPoolSize: 8) with { MinPoolSize = 3 }], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(Ct));
        Assert.Equal(3, await server.ConnectionsAsync());

        // Calls one at a time, and three at once, find an idle connection: none is opened for them.
        var database = registry.FindDatabase("warm")!;
        Assert.Equal(SqlCallStatus.Ok, (await database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0)).Status);
        var together = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0, "p")));
        Assert.All(together, r => Assert.Equal(SqlCallStatus.Ok, r.Status));
        Assert.Equal(3, await server.ConnectionsAsync());
    }

    [Fact]
    public async Task TimedOutStatement_IsStoppedOnTheServer_AndItsSlotFreedOnlyThen()
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
        Assert.Equal(0, await server.RunningStatementsAsync(RunningPrefixes.Sleep));
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
        var breakerOpened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flood = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var statuses = new List<SqlCallStatus>();
            while (!stop.IsCancellationRequested)
            {
                var status = (await database.ExecuteAsync("slow_miss", SqlWire.Params($"random-{i}-{statuses.Count}"), 0, "flood")).Status;
                statuses.Add(status);
                if (status == SqlCallStatus.CircuitOpen)
                {
                    breakerOpened.TrySetResult();
                }
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

        // The flood's timed-out statements hold its share until the server has cancelled them, which a loaded machine
        // can stretch past the steady calls: the flood goes on until a call finds the breaker open, or for 10 s.
        await Task.WhenAny(breakerOpened.Task, Task.Delay(TimeSpan.FromSeconds(10), Ct));
        await stop.CancelAsync();
        var floodStatuses = (await Task.WhenAll(flood)).SelectMany(s => s).ToList();
        Assert.All(steady, s => Assert.Equal(SqlCallStatus.Ok, s));
        Assert.Contains(SqlCallStatus.Timeout, floodStatuses);
        Assert.Contains(SqlCallStatus.CircuitOpen, floodStatuses);
    }
}

/// <summary>The limits on PostgreSQL: a timed-out statement is cancelled (pg_cancel_backend).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLimitsTests(PostgresFixture postgres) : SqlLimitsTests(postgres.Server)
{
    protected override DatabaseProvider Provider => DatabaseProvider.PostgreSql;

    protected override string CreateKeys =>
        "CREATE TABLE IF NOT EXISTS api_keys (key_hash text PRIMARY KEY, tenant text NOT NULL, revoked bool NOT NULL DEFAULT false); " +
        "GRANT ALL ON api_keys TO gateway; INSERT INTO api_keys VALUES ('k1', 'acme', false) ON CONFLICT DO NOTHING;";

    protected override IReadOnlyDictionary<string, string> Statements { get; } = new Dictionary<string, string>
    {
        ["find_key"] = "SELECT tenant FROM api_keys WHERE key_hash = $1 AND NOT revoked",
        ["slow_miss"] = "SELECT pg_sleep(0.5) AS slept, (SELECT tenant FROM api_keys WHERE key_hash = $1) AS tenant",
        ["sleep"] = "SELECT pg_sleep($1::float8) AS slept",
        // Streams (a set-returning function in the select list is not materialized first).
        ["huge"] = "SELECT generate_series(1, 100000000) AS n, repeat('x', 1000) AS filler",
        ["huge_rows"] = "SELECT generate_series(1, 100000000) AS n",
    };

    protected override (string Huge, string Sleep) RunningPrefixes => ("SELECT generate_series", "SELECT pg_sleep");
}

/// <summary>The limits on MariaDB through the <c>mysql</c> provider: a timed-out statement is killed (KILL QUERY).</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbLimitsTests(MariaDbFixture mariadb) : SqlLimitsTests(mariadb.Server)
{
    protected override DatabaseProvider Provider => DatabaseProvider.MySql;

    protected override string CreateKeys =>
        "CREATE TABLE IF NOT EXISTS api_keys (key_hash VARCHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, revoked BOOL NOT NULL DEFAULT FALSE); " +
        "INSERT IGNORE INTO api_keys VALUES ('k1', 'acme', FALSE);";

    protected override IReadOnlyDictionary<string, string> Statements { get; } = new Dictionary<string, string>
    {
        ["find_key"] = "SELECT tenant FROM api_keys WHERE key_hash = ? AND NOT revoked",
        // Slower than the timeout: every executing one times out, which opens the flooding plugin's breaker.
        ["slow_miss"] = "SELECT SLEEP(0.5) AS slept, (SELECT tenant FROM api_keys WHERE key_hash = ?) AS tenant",
        ["sleep"] = "SELECT SLEEP(?) AS slept",
        ["huge"] = "SELECT seq, REPEAT('x', 1000) AS filler FROM seq_1_to_100000000",
        ["huge_rows"] = "SELECT seq FROM seq_1_to_100000000",
    };

    protected override (string Huge, string Sleep) RunningPrefixes => ("SELECT seq", "SELECT SLEEP");
}
