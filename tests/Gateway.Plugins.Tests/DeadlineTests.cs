using System.Diagnostics;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>Timing-sensitive tests run alone, so the other tests' CPU load does not decide them.</summary>
[CollectionDefinition(nameof(DeadlineTests), DisableParallelization = true)]
public sealed class DeadlineCollection;

[Collection(nameof(DeadlineTests))]
public sealed class DeadlineTests
{
    [Theory]
    [InlineData(FailurePolicy.Closed, FilterAction.Failed)]
    [InlineData(FailurePolicy.Open, FilterAction.Continue)]
    public async Task InfiniteLoop_EndsWithinTheDeadline_AndAConcurrentStreamIsServed(FailurePolicy policy, FilterAction expected)
    {
        var loop = Plugin("loop", "behaviors", "loop", policy) with { Limits = new PluginLimits { CpuMillisecondsPerCall = 5 } };
        using var host = Start([loop, Plugin("headers", "behaviors", "headers")]);
        var other = Get("/other");
        Task<FilterOutcome>? concurrent = null;
        // One unmeasured round first, so the measured one shows the host's cost and not first-call JIT of the
        // failure path (the gateway itself is published AOT).
        await AsyncTests.RunHeaders(host, "loop", Get("/warm-up"));
        var (outcome, elapsed) = await host.OnWorker(async worker =>
        {
            // Queued on the same worker behind the looping request.
            concurrent = host.OnWorker(async w =>
            {
                var s = w.BeginStream(["headers"], Info());
                var r = await s.OnRequestHeadersAsync(other, true);
                s.Complete();
                return r;
            });
            var stream = worker.BeginStream(["loop"], Info());
            long start = Stopwatch.GetTimestamp();
            var result = await stream.OnRequestHeadersAsync(Get("/spin"), true);
            var took = Stopwatch.GetElapsedTime(start);
            stream.Complete();
            return (result, took);
        });
        Assert.Equal(expected, outcome.Action);
        Assert.True(elapsed < TimeSpan.FromMilliseconds(5 + 50), $"the loop ran {elapsed.TotalMilliseconds:F1} ms");
        var otherOutcome = await concurrent!;
        Assert.Equal(FilterAction.Continue, otherOutcome.Action);
        Assert.Equal("1", other.Headers.Get("x-added"));
        Assert.Equal("2", AdversarialTests.Metric(host, "gateway_plugin_deadline_exceeded_total", "loop"));
    }

}
