using System.Diagnostics;
using Gateway.Backends;
using Gateway.Backends.Sql;
using Gateway.Http.Transport;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Runtime;
using Gateway.Testing.Sql;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>
/// A plugin's in-flight slot for <c>proxy_sql_call</c> stays taken after the callback reported a timeout, for as long as
/// the statement still runs on the server, and is free again once the server-side cancel has ended it. The server
/// process is stopped (SIGSTOP) while the statement runs, so the statement outlives the timeout for certain.
/// </summary>
public sealed class SqlInFlightSlotTests
{
    // Long enough that the statement is surely seen running (and frozen) before the timeout, on a loaded machine too.
    private const int TimeoutMs = 3000;

    /// <summary>A real server with a statement that sleeps for the seconds given as text, and a way to freeze it.</summary>
    /// <summary>How the sleep statement's text starts, on both providers.</summary>
    private const string Prefix = "SELECT 'slept'";

    private sealed record Server(DatabaseServer Database, DatabaseProvider Provider, string SleepSql, Func<Task<SuspendedProcess>> SuspendWhileSleeping)
    {
        public Task<int> Sleeping() => Database.RunningStatementsAsync(Prefix);
    }

    private static async Task<Server> StartAsync(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.PostgreSql)
        {
            var postgres = await PostgresServer.StartAsync();
            return new Server(postgres, provider, Prefix + "::text AS slept FROM pg_sleep(CAST(CAST($1 AS text) AS double precision))",
                () => postgres.SuspendStatementAsync(Prefix));
        }
        var mariadb = await MariaDbServer.StartAsync();
        return new Server(mariadb, provider, Prefix + " AS slept FROM DUAL WHERE SLEEP(?) = 0", () => Task.FromResult(mariadb.Suspend()));
    }

    [Theory]
    [InlineData(DatabaseProvider.PostgreSql)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task TimedOutStatement_KeepsTheSlotUntilItEndedOnTheServer(DatabaseProvider provider)
    {
        var server = await StartAsync(provider);
        await using var owner = server.Database;
        await using var backends = BackendRegistry.Create([],
            [new DatabaseOptions
            {
                Name = "accounts",
                Provider = server.Provider,
                ConnectionString = server.Database.ConnectionString,
                Password = server.Database.Password,
                TimeoutMs = TimeoutMs,
                Statements = new Dictionary<string, StatementOptions> { ["sleep"] = new() { Sql = server.SleepSql } },
            }],
            new CapturingLoggerFactory());
        Assert.Empty(await backends.CheckAsync(TestContext.Current.CancellationToken));
        using var runtime = PluginRuntime.Load([Plugin("slow", "behaviors", "sql sleep")],
            new PluginServices { LoggerFactory = new CapturingLoggerFactory(), Backends = backends, MaxBackendCallsInFlightPerPlugin = 1 },
            out var errors);
        Assert.Empty(errors);
        using var loop = new WorkerLoop(0);
        var (timedOut, whileRunning, afterEnd) = await loop.RunOnWorker(async () =>
        {
            using var worker = runtime.CreateWorker(loop);
            // A first quick call prepares the statement, so the slow one is at the server right away.
            Assert.Equal("0:1:slept", await CallAsync(worker, "0"));
            var slow = CallAsync(worker, "30");
            await WaitForAsync(async () => await server.Sleeping() == 1);
            string? timedOut;
            string? whileRunning;
            using (await server.SuspendWhileSleeping())
            {
                timedOut = await slow;
                // The callback has reported the timeout; the statement cannot have ended, so the slot is still taken.
                whileRunning = await CallAsync(worker, "0");
            }
            // Continued: the cancel reaches the server, the statement ends, and the slot comes back.
            string? afterEnd = null;
            await WaitForAsync(async () => (afterEnd = await CallAsync(worker, "0")) == "0:1:slept");
            return (timedOut, whileRunning, afterEnd);
        });
        Assert.Equal($"{(int)SqlCallStatus.Timeout}:0:", timedOut);
        Assert.Equal($"dispatch {(int)WasmResult.InternalFailure}", whileRunning);
        Assert.Equal("0:1:slept", afterEnd);
        Assert.Equal(0, await server.Sleeping());
    }

    /// <summary>One request through the plugin, which sleeps <paramref name="seconds"/>; returns its <c>x-sql</c> report.</summary>
    private static async Task<string?> CallAsync(WorkerPlugins worker, string seconds)
    {
        var request = Get("/", ("x-key", seconds));
        var stream = worker.BeginStream(["slow"], Info());
        var outcome = await stream.OnRequestHeadersAsync(request, true);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        stream.Complete();
        return request.Headers.Get("x-sql");
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "condition not met within 20 s");
            await Task.Delay(50);
        }
    }
}
