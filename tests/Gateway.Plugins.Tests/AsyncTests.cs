using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Shared;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>Calls, ticks, queues and shared state: everything that completes later on the owning worker.</summary>
public sealed class AsyncTests
{
    [Fact]
    public async Task HttpCall_PausesUntilTheResponseArrivesOnAnotherThread()
    {
        var upstream = new ThreadedDispatcher("auth", (request, body) => (200, "token-" + request.Headers.Get("x-user") + "-" + Encoding.ASCII.GetString(body.Span)));
        using var host = Start([Plugin("auth", "behaviors", "auth auth")], httpCalls: upstream);
        var request = Get("/private");
        var (pendingBeforeReply, outcome) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["auth"], Info());
            var pending = stream.OnRequestHeadersAsync(request, true);
            bool wasPending = !pending.IsCompleted;
            var result = await pending;
            stream.Complete();
            return (wasPending, result);
        });
        Assert.True(pendingBeforeReply);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.Equal("token-me-ping", request.Headers.Get("x-auth"));
        var sent = Assert.Single(upstream.Requests);
        Assert.Equal(("GET", "/auth", "auth"), (sent.Method, sent.Target, sent.Authority));
        Assert.Equal(TimeSpan.FromMilliseconds(200), upstream.Timeouts.Single());
    }

    [Fact]
    public async Task HttpCall_DeniedByUpstream_AnswersLocallyFromTheCallback()
    {
        var upstream = new ThreadedDispatcher("auth", (request, body) => (401, "no"));
        using var host = Start([Plugin("auth", "behaviors", "auth auth")], httpCalls: upstream);
        var outcome = await RunHeaders(host, "auth", Get("/private"));
        Assert.Equal(FilterAction.LocalReply, outcome.Action);
        Assert.Equal(403, outcome.Reply!.StatusCode);
    }

    [Fact]
    public async Task HttpCall_Reset_ReportsBrokenConnectionThroughGetStatus()
    {
        var upstream = new ThreadedDispatcher("auth", null);
        using var host = Start([Plugin("auth", "behaviors", "auth auth")], httpCalls: upstream);
        var outcome = await RunHeaders(host, "auth", Get("/private"));
        Assert.Equal(FilterAction.LocalReply, outcome.Action);
        Assert.Equal(503, outcome.Reply!.StatusCode);
        Assert.Equal("callout reset", Encoding.ASCII.GetString(outcome.Reply.Body.Span));
    }

    [Fact]
    public async Task HttpCall_UnknownCluster_IsRefusedSynchronously()
    {
        var upstream = new ThreadedDispatcher("auth", (request, body) => (200, "x"));
        using var host = Start([Plugin("auth", "behaviors", "auth elsewhere")], httpCalls: upstream);
        var outcome = await RunHeaders(host, "auth", Get("/private"));
        Assert.Equal(FilterAction.LocalReply, outcome.Action);
        Assert.Equal("dispatch failed", Encoding.ASCII.GetString(outcome.Reply!.Body.Span));
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task HttpCall_CompletionAfterStreamEnded_IsDropped()
    {
        var release = new ManualResetEventSlim();
        var upstream = new ThreadedDispatcher("auth", (request, body) =>
        {
            release.Wait(TimeSpan.FromSeconds(10));
            return (200, "late");
        });
        using var host = Start([Plugin("auth", "behaviors", "auth auth")], httpCalls: upstream);
        var outcome = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["auth"], Info());
            var pending = stream.OnRequestHeadersAsync(Get("/"), true);
            stream.Complete();
            return await pending;
        });
        Assert.Equal(FilterAction.Reset, outcome.Action);
        release.Set();
        await upstream.Completed.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        // The late completion is posted and dropped; the worker keeps serving.
        var next = await RunHeaders(host, "auth", Get("/"));
        Assert.Equal(FilterAction.Continue, next.Action);
    }

    [Fact]
    public async Task HttpCall_DispatcherThatNeverAnswers_StillCallsBackWithATimeout()
    {
        var silent = new SilentDispatcher();
        using var host = Start([Plugin("auth", "behaviors", "auth auth")], httpCalls: silent);
        var outcome = await RunHeaders(host, "auth", Get("/"));
        // The guard delivers Envoy's timeout shape (504), which this plugin answers with 403.
        Assert.Equal(FilterAction.LocalReply, outcome.Action);
        Assert.Equal(403, outcome.Reply!.StatusCode);
        Assert.Equal(1, silent.Calls);
    }

    [Fact]
    public async Task PostponedRequest_ResumesOnTick()
    {
        using var host = Start([Plugin("postpone", "behaviors", "postpone")]);
        var request = Get("/slow");
        var (wasPending, outcome) = await RunHeadersThroughPause(host, "postpone", request);
        Assert.True(wasPending);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.Equal("1", request.Headers.Get("x-postponed"));
    }

    [Fact]
    public async Task SharedData_CountsAcrossWorkersWithCas()
    {
        using var host = Start([Plugin("counter", "behaviors", "counter")], workers: 2);
        // The ABI has no atomic create (CAS 0 is unconditional, docs/proxy-wasm.md, 'Other imports'), so the key exists before the race starts.
        // A plugin without a vmId has a namespace of its own.
        Assert.Equal(SharedDataResult.Stored, host.Runtime.SharedData.TrySet("\0plugin:counter", "hits", [0, 0, 0, 0], 0, long.MaxValue));
        var seen = new List<string>();
        var runs = new List<Task<List<string>>>();
        for (int w = 0; w < 2; w++)
        {
            runs.Add(host.OnWorker(async worker =>
            {
                var values = new List<string>();
                for (int i = 0; i < 25; i++)
                {
                    var request = Get("/");
                    var stream = worker.BeginStream(["counter"], Info());
                    await stream.OnRequestHeadersAsync(request, true);
                    stream.Complete();
                    values.Add(request.Headers.Get("x-hits")!);
                }
                return values;
            }, w));
        }
        foreach (var run in runs)
        {
            seen.AddRange(await run);
        }
        Assert.Equal(Enumerable.Range(1, 50).Select(i => i.ToString()).OrderBy(s => s), seen.OrderBy(s => s));
    }

    [Fact]
    public async Task SharedQueue_ItemsFromOnePluginReachTheOther()
    {
        var consumer = Plugin("consumer", "behaviors", "consumer") with { VmId = "jobs", VmConfiguration = "consumer", Singleton = true };
        var producer = Plugin("producer", "behaviors", "producer") with { VmId = "jobs", VmConfiguration = "producer" };
        using var host = Start([consumer, producer], workers: 2);
        foreach (var path in new[] { "/job/1", "/job/2", "/job/3" })
        {
            // Produced on worker 1; the consumer runs as a singleton on worker 0.
            var outcome = await RunHeaders(host, "producer", Get(path), worker: 1);
            Assert.Equal(FilterAction.Continue, outcome.Action);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        byte[] seen = [];
        while (DateTime.UtcNow < deadline
            && !(host.Runtime.SharedData.TryGet("jobs", "jobs_seen", out seen, out _) && BitConverter.ToUInt32(seen) == 3))
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        Assert.Equal(3u, BitConverter.ToUInt32(seen));
        Assert.True(host.Runtime.SharedData.TryGet("jobs", "last_job", out var last, out _));
        Assert.Equal("/job/3", Encoding.ASCII.GetString(last));
        Assert.False(host.Runtime.Contains("consumer"));
    }

    [Fact]
    public async Task Metrics_DefinedByThePluginAreExportedUnderItsName()
    {
        using var host = Start([Plugin("metered", "behaviors", "metrics")]);
        var request = Get("/abc");
        for (int i = 0; i < 3; i++)
        {
            request = Get("/abc");
            await RunHeaders(host, "metered", request);
        }
        Assert.Equal("3", request.Headers.Get("x-requests"));
        var text = new StringBuilder();
        host.Runtime.WritePrometheus(text);
        string metrics = text.ToString();
        Assert.Contains("wasm_metered_requests 3\n", metrics);
        Assert.Contains("wasm_metered_last_path_length 4\n", metrics);
        Assert.Contains("wasm_metered_path_length_count 3\n", metrics);
        Assert.Contains("wasm_metered_path_length_sum 12\n", metrics);
        Assert.Contains("gateway_plugin_traps_total{plugin=\"metered\"} 0\n", metrics);
    }

    [Fact]
    public async Task Properties_ExposePluginRouteClusterAddressesAndTheBag()
    {
        var options = Plugin("props", "behaviors", "properties") with { VmId = "vm-p" };
        using var host = Start([options]);
        var request = Get("/p?x=1", ("user-agent", "agent/1"));
        await RunHeaders(host, "props", request);
        Assert.Equal("props", request.Headers.Get("x-plugin-name"));
        Assert.Equal("vm-p", request.Headers.Get("x-vm-id"));
        Assert.Equal("route-a", request.Headers.Get("x-route-name"));
        Assert.Equal("cluster-a", request.Headers.Get("x-cluster-name"));
        Assert.Equal("127.0.0.1:40000", request.Headers.Get("x-source"));
        Assert.Equal("40000", request.Headers.Get("x-source-port"));
        Assert.Equal("127.0.0.1:8080", request.Headers.Get("x-destination"));
        Assert.Equal("/p?x=1", request.Headers.Get("x-request-path"));
        Assert.Equal("GET", request.Headers.Get("x-request-method"));
        Assert.Equal("req-1", request.Headers.Get("x-request-id-prop"));
        Assert.Equal("agent/1", request.Headers.Get("x-ua"));
        Assert.Equal("stored", request.Headers.Get("x-bag"));
    }

    internal static async Task<FilterOutcome> RunHeaders(PluginHarness host, string plugin, HttpRequestHead request, int worker = 0) =>
        (await RunHeadersThroughPause(host, plugin, request, worker)).Outcome;

    /// <summary>Runs a request-headers phase (no body) to its end; <c>Paused</c> says whether it paused first.</summary>
    internal static Task<(bool Paused, FilterOutcome Outcome)> RunHeadersThroughPause(PluginHarness host, string plugin, HttpRequestHead request, int worker = 0) =>
        host.OnWorker(async plugins =>
        {
            var stream = plugins.BeginStream([plugin], Info());
            var pending = stream.OnRequestHeadersAsync(request, true);
            bool paused = !pending.IsCompleted;
            var result = await pending;
            stream.Complete();
            return (paused, result);
        }, worker);
}

/// <summary>
/// Answers callouts from a thread-pool thread after a short delay, as the gateway's upstream client would;
/// a null responder simulates a reset (no response).
/// </summary>
internal sealed class ThreadedDispatcher(string cluster, Func<HttpRequestHead, ReadOnlyMemory<byte>, (int Status, string Body)>? respond) : IHttpCallDispatcher
{
    public List<HttpRequestHead> Requests { get; } = [];

    public List<TimeSpan> Timeouts { get; } = [];

    public TaskCompletionSource Completed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool HasCluster(string name) => name == cluster;

    public void Send(string name, HttpRequestHead request, ReadOnlyMemory<byte> body, TimeSpan timeout, Action<HttpCallResult> onComplete)
    {
        lock (Requests)
        {
            Requests.Add(request);
            Timeouts.Add(timeout);
        }
        byte[] copy = body.ToArray();
        _ = Task.Run(async () =>
        {
            await Task.Delay(20);
            if (respond is null)
            {
                onComplete(new HttpCallResult(false, null, [], "reset"));
            }
            else
            {
                var (status, text) = respond(request, copy);
                var response = new HttpResponseHead { StatusCode = status };
                response.Headers.Add("content-type", "text/plain");
                onComplete(new HttpCallResult(true, response, Encoding.ASCII.GetBytes(text), null));
            }
            Completed.TrySetResult();
        });
    }
}

/// <summary>Accepts every call and never answers.</summary>
internal sealed class SilentDispatcher : IHttpCallDispatcher
{
    public int Calls { get; private set; }

    public bool HasCluster(string cluster) => true;

    public void Send(string cluster, HttpRequestHead request, ReadOnlyMemory<byte> body, TimeSpan timeout, Action<HttpCallResult> onComplete) => Calls++;
}
