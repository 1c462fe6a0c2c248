using System.Buffers;
using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;
using Microsoft.Extensions.Logging;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>
/// Modules under plugins/testdata/sdk, each carrying one trait of plugins built with the Go, TinyGo, Rust, C++ and
/// AssemblyScript SDKs (and Higress's builds), run on the real plugin host.
/// </summary>
public sealed class SdkShapedModuleTests
{
    [Fact]
    public async Task GoWasip1_DuplicateWasiImportsAndAllocateOnlyAllocator_LoadAndRun()
    {
        using var host = Start([Plugin("go", "sdk/go_wasip1", "")]);
        var request = Get("/hello");
        var outcome = await AsyncTests.RunHeaders(host, "go", request);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.Equal("go-wasip1", request.Headers.Get("x-sdk-shape"));
        // Three fd_write calls make one line, so one record.
        var records = host.Logs.Lines.Where(l => l.Message.Contains("go plugin saw", StringComparison.Ordinal)).ToList();
        Assert.Single(records);
        Assert.EndsWith("go plugin saw /hello", records[0].Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Information, records[0].Level);
    }

    [Fact]
    public async Task GoPanic_ManySmallWritesThenProcExit_OneRecordWithTheStack_AndTheExitCodeAsReason()
    {
        using var host = Start([Plugin("panicky", "sdk/go_panic", "")]);
        var outcome = await AsyncTests.RunHeaders(host, "panicky", Get("/"));
        Assert.Equal(FilterAction.Failed, outcome.Action);
        var lines = host.Logs.Lines.ToList();
        var panic = Assert.Single(lines, l => l.Message.Contains("panic: ", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Error, panic.Level);
        Assert.Contains("panic: runtime error: index out of range [3] with length 3", panic.Message);
        Assert.Contains("goroutine 1 [running]:\nmain.(*httpContext).OnHttpRequestHeaders(...)\n\t/src/main.go:42 +0x5\nmain.main()", panic.Message);
        Assert.DoesNotContain(lines, l => l.Message.EndsWith("] goroutine ", StringComparison.Ordinal) || l.Message.EndsWith("] running", StringComparison.Ordinal));
        var failure = Assert.Single(lines, l => l.Message.Contains("failed on worker", StringComparison.Ordinal));
        Assert.Contains("proc_exit(2)", failure.Message);
        // The stack is logged before the failure it explains.
        Assert.True(lines.IndexOf(panic) < lines.IndexOf(failure));
    }

    [Fact]
    public async Task Go126_34MiBInitialMemory_LoadsUnderTheDefaultCap()
    {
        var plugin = Plugin("go126", "sdk/go126_memory", "") with { Limits = new PluginLimits { CpuMillisecondsPerCall = 1000 } };
        Assert.True(plugin.Limits.MemoryBytes >= 550 * 65536);
        using var host = Start([plugin]);
        var request = Get("/");
        Assert.Equal(FilterAction.Continue, (await AsyncTests.RunHeaders(host, "go126", request)).Action);
        Assert.Equal("go126", request.Headers.Get("x-sdk-shape"));
    }

    [Fact]
    public void Go126_OverAnExplicitCap_TheProblemSaysPagesMiBAndTheLimit()
    {
        var plugin = Plugin("go126", "sdk/go126_memory", "") with { Limits = new PluginLimits { MemoryBytes = 16 * 1024 * 1024, CpuMillisecondsPerCall = 1000 } };
        using var runtime = PluginRuntime.Load([plugin], new PluginServices { LoggerFactory = new CapturingLoggerFactory() }, out var errors);
        string error = Assert.Single(errors);
        Assert.Contains("plugin 'go126'", error);
        Assert.Contains("550 pages (34.4 MiB)", error);
        Assert.Contains("16777216 (16.0 MiB)", error);
    }

    [Fact]
    public async Task AssemblyScript_WithoutConfiguration_ConfiguresAndRuns()
    {
        // @solo-io/proxy-runtime 0.1.8 passes the configuration size as the size pointer: writing 0/0 for an empty
        // configuration made it free address 0 and trap in proxy_on_configure.
        var plugin = Plugin("as", "as_headers", "") with { RootId = "as_headers" };
        using var host = Start([plugin]);
        var request = Get("/");
        Assert.Equal(FilterAction.Continue, (await AsyncTests.RunHeaders(host, "as", request)).Action);
        Assert.Contains(host.Logs.Lines, l => l.Message.Contains("hello from AssemblyScript", StringComparison.Ordinal));
        // That SDK reads the empty configuration from stale memory (control bytes and NULs): the header write is
        // refused as an invalid field value instead of putting those bytes on the wire.
        Assert.Null(request.Headers.Get("x-as-config"));
    }

    [Fact]
    public async Task HttpCall_WithEmptyAuthority_IsSentAndAnswered()
    {
        var upstream = new ThreadedDispatcher("backend", (request, body) => (204, ""));
        using var host = Start([Plugin("dispatch", "sdk/http_call_empty_authority", "")], httpCalls: upstream);
        var request = Get("/");
        var outcome = await AsyncTests.RunHeaders(host, "dispatch", request);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.Equal("204", request.Headers.Get("x-callout-status"));
        var sent = Assert.Single(upstream.Requests);
        Assert.Equal("/callout", sent.Target);
        // Empty as the plugin sent it: the cluster dispatcher fills in the endpoint's host.
        Assert.Equal("", sent.Authority);
    }

    [Fact]
    public async Task GetWithBody_ReachesTheBodyCallback_AndTheRewrittenBodyGoesOn()
    {
        using var host = Start([Plugin("body", "sdk/get_body", "")]);
        string forwarded = await host.OnWorker(async plugins =>
        {
            var stream = plugins.BeginStream(["body"], Info());
            var sink = new ArrayBufferWriter<byte>();
            Assert.Equal(FilterAction.Continue, (await stream.OnRequestHeadersAsync(Get("/search"), false)).Action);
            Assert.Equal(FilterAction.Continue, (await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("{\"q\":"u8.ToArray()), false, sink)).Action);
            Assert.Equal(FilterAction.Continue, (await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("1}"u8.ToArray()), true, sink)).Action);
            stream.Complete();
            return System.Text.Encoding.ASCII.GetString(sink.WrittenSpan);
        });
        Assert.Equal("seen:{\"q\":1}", forwarded);
    }

    [Fact]
    public async Task Trailers_BothWays_CallbacksRunAndMapsAreReadable()
    {
        using var host = Start([Plugin("trailers", "sdk/trailers", "")]);
        var (reported, upstreamTrailers) = await host.OnWorker(async plugins =>
        {
            var stream = plugins.BeginStream(["trailers"], Info());
            var sink = new ArrayBufferWriter<byte>();
            var requestTrailers = new HeaderCollection();
            requestTrailers.Add("x-client-trailer", "abc");
            var response = new HttpResponseHead { StatusCode = 200 };
            var responseTrailers = new HeaderCollection();
            responseTrailers.Add("x-upstream-trailer", "u-1");
            await stream.OnRequestHeadersAsync(Get("/"), false);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("a"u8.ToArray()), false, sink);
            Assert.Equal(FilterAction.Continue, (await stream.OnRequestTrailersAsync(requestTrailers, sink)).Action);
            await stream.OnResponseHeadersAsync(response, false);
            await stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("b"u8.ToArray()), false, sink);
            Assert.Equal(FilterAction.Continue, (await stream.OnResponseTrailersAsync(responseTrailers, sink)).Action);
            stream.Complete();
            return (response.Headers.Get("x-request-trailer"), responseTrailers.Get("x-plugin-trailer"));
        });
        Assert.Equal("abc", reported);
        Assert.Equal("u-1", upstreamTrailers);
    }

    [Fact]
    public async Task HigressForeignFunctions_LogLevelAndIoCycleAnswered_UnknownIsNotFoundAndLoggedOnce()
    {
        using var host = Start([Plugin("higress", "sdk/higress_foreign", "")]);
        for (int i = 0; i < 2; i++)
        {
            var request = Get("/");
            Assert.Equal(FilterAction.Continue, (await AsyncTests.RunHeaders(host, "higress", request)).Action);
            // The capturing logger has every level on: trace (0).
            Assert.Equal("0", request.Headers.Get("x-log-level"));
            Assert.Equal("0,0,1,1", request.Headers.Get("x-foreign"));
        }
        Assert.Single(host.Logs.Lines, l => l.Message.Contains("no_such_function", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GuestLogging_IsCappedRateLimitedAndCounted()
    {
        var plugin = Plugin("flood", "log_flood", "");
        using var host = Start([plugin]);
        await AsyncTests.RunHeaders(host, "flood", Get("/"));
        var records = host.Logs.Lines.Where(l => l.Category == "Gateway.Plugins.flood").ToList();
        // One long record and 3000 short ones: the bucket lets its burst through and drops the rest.
        Assert.InRange(records.Count, 100, 1100);
        var longest = records.MaxBy(l => l.Message.Length);
        Assert.Contains("[truncated, 40000 in all]", longest.Message);
        Assert.True(longest.Message.Length < 17 * 1024);
        long dropped = long.Parse(AdversarialTests.Metric(host, "gateway_plugin_log_dropped_total", "flood"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(3001 - records.Count, dropped);
    }
}
