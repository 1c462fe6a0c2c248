using System.Buffers;
using System.Diagnostics;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>Plugins that loop, bomb, trap, lie about pointers or never continue: the gateway keeps serving.</summary>
public sealed class AdversarialTests
{
    [Fact]
    public async Task MemoryBomb_IsCappedAndTheVmReplaced()
    {
        var bomb = Plugin("bomb", "behaviors", "bomb") with { Limits = new PluginLimits { MemoryBytes = 2 * 1024 * 1024, CpuMillisecondsPerCall = 200 } };
        using var host = Start([bomb]);
        var first = await AsyncTests.RunHeaders(host, "bomb", Get("/"));
        Assert.Equal(FilterAction.Failed, first.Action);
        Assert.True("1" == Metric(host, "gateway_plugin_memory_limit_total", "bomb"), string.Join("\n", host.Logs.Lines.Select(l => l.Message)));
        var second = await AsyncTests.RunHeaders(host, "bomb", Get("/"));
        Assert.Equal(FilterAction.Failed, second.Action);
        Assert.Equal("2", Metric(host, "gateway_plugin_memory_limit_total", "bomb"));
        Assert.NotEqual("0", Metric(host, "gateway_plugin_vm_recreations_total", "bomb"));
    }

    [Theory]
    [InlineData("trap_create", 0)]
    [InlineData("trap_headers", 0)]
    [InlineData("trap_body", 1)]
    [InlineData("trap_trailers", 2)]
    [InlineData("trap_response", 3)]
    [InlineData("trap_response_body", 4)]
    [InlineData("trap_log", -1)]
    [InlineData("trap_delete", -1)]
    public async Task TrapInACallback_FailsOnlyThatPhase_AndTheNextStreamGetsAFreshVm(string mode, int failing)
    {
        using var host = Start([Plugin("trapper", "behaviors", mode)]);
        for (int round = 0; round < 2; round++)
        {
            var outcomes = await host.OnWorker(worker => FullExchange(worker, "trapper"));
            for (int phase = 0; phase < outcomes.Count; phase++)
            {
                var expected = phase == failing ? FilterAction.Failed : FilterAction.Continue;
                Assert.Equal(expected, outcomes[phase].Action);
            }
            Assert.Equal(failing < 0 ? 6 : failing + 1, outcomes.Count);
        }
        Assert.Equal("2", Metric(host, "gateway_plugin_traps_total", "trapper"));
    }

    [Fact]
    public async Task TrapInHttpCallCallback_FailsThePausedStream()
    {
        var upstream = new ThreadedDispatcher("auth", (request, body) => (200, "x"));
        using var host = Start([Plugin("trapper", "behaviors", "trap_call auth")], httpCalls: upstream);
        var outcome = await AsyncTests.RunHeaders(host, "trapper", Get("/"));
        Assert.Equal(FilterAction.Failed, outcome.Action);
        Assert.Equal("1", Metric(host, "gateway_plugin_traps_total", "trapper"));
    }

    [Fact]
    public async Task TrapInTick_IsCountedAndTheVmRebuilt()
    {
        using var host = Start([Plugin("ticker", "behaviors", "trap_tick")]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && Metric(host, "gateway_plugin_vm_recreations_total", "ticker") == "0")
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        Assert.NotEqual("0", Metric(host, "gateway_plugin_traps_total", "ticker"));
        Assert.NotEqual("0", Metric(host, "gateway_plugin_vm_recreations_total", "ticker"));
    }

    /// <summary>
    /// The start-up probe builds and drops a VM on a scratch worker. Ticks that fall due while it configures used to run
    /// the guest from a timer thread beside the probe, which ended the process: "re-entry into a running guest".
    /// </summary>
    [Fact]
    public void TicksDueWhileTheProbeConfigures_WaitForIt()
    {
        for (int i = 0; i < 3; i++)
        {
            using var runtime = PluginRuntime.Load([Plugin("ticker", "behaviors", "tick_while_configuring")],
                new PluginServices { LoggerFactory = new CapturingLoggerFactory() }, out var errors);
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task OutOfBoundsPointers_ToEveryImport_AnswerInvalidMemoryAccess()
    {
        using var host = Start([Plugin("oob", "behaviors", "oob")]);
        var request = Get("/");
        var outcome = await AsyncTests.RunHeaders(host, "oob", request);
        Assert.True(outcome.Action == FilterAction.Continue, string.Join("\n", host.Logs.Lines.Select(l => l.Message)));
        var statuses = request.Headers.Get("x-oob")!.Split(',');
        Assert.Equal(24, statuses.Length);
        Assert.All(statuses, s => Assert.Equal("6", s));
    }

    [Fact]
    public async Task PluginThatNeverContinues_StaysPendingUntilTheCallerCompletesTheStream()
    {
        using var host = Start([Plugin("never", "behaviors", "never")]);
        var outcome = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["never"], Info());
            var pending = stream.OnRequestHeadersAsync(Get("/"), true);
            await Task.Delay(100, TestContext.Current.CancellationToken);
            Assert.False(pending.IsCompleted);
            stream.Complete();
            return await pending;
        });
        Assert.Equal(FilterAction.Reset, outcome.Action);
        // The worker and the VM are fine afterwards.
        var again = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["never"], Info());
            var pending = stream.OnRequestHeadersAsync(Get("/"), true);
            stream.Complete();
            return await pending;
        });
        Assert.Equal(FilterAction.Reset, again.Action);
        Assert.Equal("0", Metric(host, "gateway_plugin_traps_total", "never"));
    }

    [Fact]
    public async Task VmRecreatedAfterTrap_ServesTheNextRequest()
    {
        using var host = Start([Plugin("fragile", "behaviors", "trap_on_header", FailurePolicy.Open)]);
        var failed = await AsyncTests.RunHeaders(host, "fragile", Get("/", ("x-trap", "1")));
        Assert.Equal(FilterAction.Continue, failed.Action);
        var healthy = Get("/");
        var next = await AsyncTests.RunHeaders(host, "fragile", healthy);
        Assert.Equal(FilterAction.Continue, next.Action);
        Assert.Equal("1", healthy.Headers.Get("x-survived"));
        Assert.Equal("1", Metric(host, "gateway_plugin_vm_recreations_total", "fragile"));
        TestContext.Current.TestOutputHelper?.WriteLine($"VM recreation took {host.Runtime.LastRecreationTime.TotalMilliseconds:F3} ms");
        Console.WriteLine($"VM recreation after a trap took {host.Runtime.LastRecreationTime.TotalMilliseconds:F3} ms");
    }

    [Fact]
    public async Task PluginAskingForRebuild_GetsAFreshVmAfterItsStream()
    {
        using var host = Start([Plugin("rebuild", "behaviors", "rebuild")]);
        var counts = new List<string?>();
        foreach (var rebuild in new[] { false, true, false, false })
        {
            var request = rebuild ? Get("/", ("x-rebuild", "1")) : Get("/");
            await AsyncTests.RunHeaders(host, "rebuild", request);
            counts.Add(request.Headers.Get("x-count"));
        }
        // The VM-local counter restarts after the rebuild the second request asked for.
        Assert.Equal(["1", "2", "1", "2"], counts);
        Assert.Equal("1", Metric(host, "gateway_plugin_vm_recreations_total", "rebuild"));
    }

    [Theory]
    [InlineData("no_abi_marker", "", "missing or unknown Proxy-Wasm ABI version")]
    [InlineData("no_allocator", "", "missing malloc")]
    [InlineData("trap_on_start", "", "_initialize failed")]
    [InlineData("imports_table", "", "env.table")]
    [InlineData("behaviors", "reject", "proxy_on_configure returned false")]
    [InlineData("behaviors", "trap_configure", "proxy_on_configure trapped")]
    public void InvalidModuleOrConfiguration_IsRefusedNamingThePlugin(string module, string configuration, string reason)
    {
        var options = Plugin("broken", module, configuration);
        using var runtime = PluginRuntime.Load([options, Plugin("fine", "behaviors", "hello")],
            new PluginServices { LoggerFactory = new CapturingLoggerFactory() }, out var errors);
        var error = Assert.Single(errors);
        Assert.StartsWith("plugin 'broken':", error);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void MissingModuleFile_IsRefusedNamingThePlugin()
    {
        var options = new PluginOptions { Name = "ghost", ModulePath = Path.Combine(TestPlugins.RepoRoot, "no-such.wasm") };
        using var runtime = PluginRuntime.Load([options], new PluginServices { LoggerFactory = new CapturingLoggerFactory() }, out var errors);
        Assert.StartsWith("plugin 'ghost': cannot load module", Assert.Single(errors));
    }

    /// <summary>Request headers, body, trailers, response headers, body, then Complete; stops at the first non-Continue.</summary>
    private static async Task<List<FilterOutcome>> FullExchange(WorkerPlugins worker, string plugin)
    {
        var outcomes = new List<FilterOutcome>();
        var stream = worker.BeginStream([plugin], Info());
        var sink = new ArrayBufferWriter<byte>();
        var trailers = new HeaderCollection();
        trailers.Add("x-checksum", "1");
        var steps = new Func<ValueTask<FilterOutcome>>[]
        {
            () => stream.OnRequestHeadersAsync(Get("/"), false),
            () => stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("abc"u8.ToArray()), false, sink),
            () => stream.OnRequestTrailersAsync(trailers, sink),
            () => stream.OnResponseHeadersAsync(new HttpResponseHead { StatusCode = 200 }, false),
            () => stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("xyz"u8.ToArray()), true, sink),
        };
        foreach (var step in steps)
        {
            var outcome = await step();
            outcomes.Add(outcome);
            if (outcome.Action != FilterAction.Continue)
            {
                break;
            }
        }
        stream.Complete();
        if (outcomes.TrueForAll(o => o.Action == FilterAction.Continue))
        {
            outcomes.Add(FilterOutcome.Continue);
        }
        return outcomes;
    }

    internal static string Metric(PluginHarness host, string name, string plugin)
    {
        var text = new StringBuilder();
        host.Runtime.WritePrometheus(text);
        string prefix = $"{name}{{plugin=\"{plugin}\"}} ";
        foreach (var line in text.ToString().Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..];
            }
        }
        return "absent";
    }
}
