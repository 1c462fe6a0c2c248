using Gateway.Testing;
using System.Diagnostics;
using static Gateway.Functional.Tests.Sandbox.HostileGateway;

namespace Gateway.Functional.Tests.Sandbox;

/// <summary>
/// The hostile plugin's ticks: one ten times slower than its period, one that never returns. Late periods are skipped,
/// not queued on the worker, and a tick is held to the CPU budget like any other callback.
/// </summary>
public sealed class HostileTickTests
{
    private static async Task<TimeSpan> TimedGetAsync(GatewayProcess gateway, string path)
    {
        var clock = Stopwatch.StartNew();
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get(path));
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        return clock.Elapsed;
    }

    [Fact]
    public async Task TickSlowerThanItsPeriod_IsSkippedNotQueued()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "slow_tick"), Route("h", "/hostile", "\"h\"")));
        // Each tick busy-waits 10 ms on a 1 ms period. Queued, the worker would fall behind by several hundred ticks a
        // second and a request through the plugin (on the same worker) would wait behind the whole backlog.
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(4), TestContext.Current.CancellationToken);
        long ticks = await MetricAsync(gateway, "wasm_h_ticks");
        double elapsedMs = window.Elapsed.TotalMilliseconds;
        Assert.True(ticks >= 10, $"only {ticks} ticks ran in {elapsedMs:F0} ms");
        Assert.True(ticks <= elapsedMs / 10 + 20, $"{ticks} ticks of 10 ms ran in {elapsedMs:F0} ms: they overlapped");
        var latency = await TimedGetAsync(gateway, "/hostile");
        Assert.True(latency < TimeSpan.FromSeconds(2), $"a request through the ticking plugin waited {latency.TotalMilliseconds:F0} ms behind queued ticks");
        Assert.Equal(0, await MetricAsync(gateway, "gateway_plugin_deadline_exceeded_total{plugin=\"h\"}"));
        await AssertStillServingAsync(gateway);
    }

    [Fact]
    public async Task TickThatNeverReturns_IsEndedByTheBudget_AndTheVmIsReplaced()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "spin_tick"), Route("h", "/hostile", "\"h\"")));
        // The first tick spins 500 ms after start; the 200 ms budget (wall cap 250 ms) ends it and a new VM takes over,
        // which spins again on its own first tick. Requests on the plain route are served all along.
        var deadline = Stopwatch.StartNew();
        long recreations = 0;
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var latency = await TimedGetAsync(gateway, "/plain");
            Assert.True(latency < TimeSpan.FromSeconds(2), $"the plain route waited {latency.TotalMilliseconds:F0} ms behind a spinning tick");
            recreations = await MetricAsync(gateway, "gateway_plugin_vm_recreations_total{plugin=\"h\"}");
            if (recreations >= 2)
            {
                break;
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.True(recreations >= 2, $"the spinning tick's VM was replaced {recreations} times in 30 s");
        Assert.True(await MetricAsync(gateway, "gateway_plugin_deadline_exceeded_total{plugin=\"h\"}") >= 2);
        await AssertStillServingAsync(gateway);
    }
}
