using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>The behaviours of the proxy-wasm Go SDK examples, reproduced with real C and AssemblyScript plugins.</summary>
public sealed class ExampleTests
{
    [Fact]
    public async Task HelloWorld_LogsConfigurationRequestAndStdout()
    {
        var options = Plugin("hello", "behaviors", "hello") with { VmConfiguration = "vm-settings" };
        using var host = Start([options]);
        var outcome = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["hello"], Info());
            var result = await stream.OnRequestHeadersAsync(Get("/greet", ("user-agent", "test")), true);
            stream.Complete();
            return result;
        });
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.True(host.Logs.Contains("vm configuration: vm-settings"));
        Assert.True(host.Logs.Contains("plugin configuration: hello"));
        Assert.True(host.Logs.Contains("hello from /greet (5 headers)"));
        Assert.True(host.Logs.Contains("stdout says hi"));
        Assert.True(host.Logs.Contains("request logged"));
        Assert.Contains(host.Logs.Lines, l => l.Category == "Gateway.Plugins.hello" && l.Message.StartsWith("[hello]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Headers_AddedRemovedReplacedInBothDirections()
    {
        using var host = Start([Plugin("headers", "behaviors", "headers")]);
        var request = Get("/", ("x-remove", "a"), ("x-replace", "old"), ("x-replace", "older"), ("x-keep", "k"));
        var response = new HttpResponseHead { StatusCode = 200, ReasonPhrase = "OK" };
        response.Headers.Add("server", "upstream");
        var (first, second) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["headers"], Info());
            var a = await stream.OnRequestHeadersAsync(request, true);
            var b = await stream.OnResponseHeadersAsync(response, false);
            stream.Complete();
            return (a, b);
        });
        Assert.Equal(FilterAction.Continue, first.Action);
        Assert.Equal(FilterAction.Continue, second.Action);
        Assert.Equal("1", request.Headers.Get("x-added"));
        Assert.False(request.Headers.Contains("x-remove"));
        Assert.Equal("new", request.Headers.Get("x-replace"));
        Assert.Equal(1, CountOf(request.Headers, "x-replace"));
        Assert.Equal("k", request.Headers.Get("x-keep"));
        Assert.Equal("yes", response.Headers.Get("x-response"));
        Assert.Equal(201, response.StatusCode);
    }

    [Fact]
    public async Task AssemblyScriptPlugin_RunsUnderItsRootId()
    {
        var options = Plugin("as", "as_headers", "from-config") with { RootId = "as_headers" };
        using var host = Start([options]);
        var request = Get("/as", ("x-remove-as", "1"));
        var response = new HttpResponseHead { StatusCode = 200 };
        await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["as"], Info());
            await stream.OnRequestHeadersAsync(request, true);
            await stream.OnResponseHeadersAsync(response, true);
            stream.Complete();
            return 0;
        });
        Assert.Equal("from-config", request.Headers.Get("x-as-config"));
        Assert.False(request.Headers.Contains("x-remove-as"));
        Assert.Equal("seen", response.Headers.Get("x-as-response"));
        Assert.True(host.Logs.Contains("hello from AssemblyScript on /as"));
    }

    [Fact]
    public void AssemblyScriptPlugin_WithUnknownRootId_FailsToLoad()
    {
        var options = Plugin("as", "as_headers", "") with { RootId = "nobody" };
        using var runtime = PluginRuntime.Load([options], new PluginServices { LoggerFactory = new CapturingLoggerFactory() }, out var errors);
        var error = Assert.Single(errors);
        Assert.StartsWith("plugin 'as':", error);
    }

    [Fact]
    public async Task BodyRewrite_BuffersUntilEndThenForwardsTheNewBody()
    {
        using var host = Start([Plugin("body", "behaviors", "body")]);
        var forwarded = new ArrayBufferWriter<byte>();
        var responseForwarded = new ArrayBufferWriter<byte>();
        var (afterFirst, last, response) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["body"], Info());
            Assert.True(stream.InspectsRequestBody);
            await stream.OnRequestHeadersAsync(Get("/upload"), false);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("hello "u8.ToArray()), false, forwarded);
            int afterFirstChunk = forwarded.WrittenCount;
            var result = await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("world"u8.ToArray()), true, forwarded);
            await stream.OnResponseHeadersAsync(new HttpResponseHead { StatusCode = 200 }, false);
            var responseResult = await stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("original"u8.ToArray()), true, responseForwarded);
            stream.Complete();
            return (afterFirstChunk, result, responseResult);
        });
        Assert.Equal(0, afterFirst);
        Assert.Equal(FilterAction.Continue, last.Action);
        Assert.Equal("rewritten:hello world:end", Encoding.ASCII.GetString(forwarded.WrittenSpan));
        Assert.Equal(FilterAction.Continue, response.Action);
        Assert.Equal("replaced response", Encoding.ASCII.GetString(responseForwarded.WrittenSpan));
    }

    [Theory]
    [InlineData("{\"ok\":true}", true)]
    [InlineData("not json", false)]
    public async Task JsonValidation_RejectsInvalidBodiesWithALocalReply(string body, bool valid)
    {
        using var host = Start([Plugin("json", "behaviors", "json")]);
        var forwarded = new ArrayBufferWriter<byte>();
        var outcome = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["json"], Info());
            await stream.OnRequestHeadersAsync(Get("/json"), false);
            var result = await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(body)), true, forwarded);
            stream.Complete();
            return result;
        });
        if (valid)
        {
            Assert.Equal(FilterAction.Continue, outcome.Action);
            Assert.Equal(body, Encoding.ASCII.GetString(forwarded.WrittenSpan));
        }
        else
        {
            Assert.Equal(FilterAction.LocalReply, outcome.Action);
            Assert.Equal(400, outcome.Reply!.StatusCode);
            Assert.Equal("invalid json", Encoding.ASCII.GetString(outcome.Reply.Body.Span));
            Assert.Equal("yes", outcome.Reply.Headers.Get("x-local"));
            Assert.Equal("text/plain", outcome.Reply.Headers.Get("content-type"));
            Assert.Equal("test_reply", outcome.Reply.Details);
            Assert.Equal(0, forwarded.WrittenCount);
        }
    }

    [Fact]
    public async Task RoutingByHeader_RewritesPathAndAuthority()
    {
        using var host = Start([Plugin("route", "behaviors", "route")]);
        var canary = Get("/api/x?q=1", ("x-canary", "1"));
        var stable = Get("/api/x");
        var invalidated = await host.OnWorker(async worker =>
        {
            var flags = new List<bool>();
            foreach (var head in new[] { canary, stable })
            {
                var stream = worker.BeginStream(["route"], Info());
                await stream.OnRequestHeadersAsync(head, true);
                flags.Add(stream.RouteInvalidated);
                stream.Complete();
            }
            return flags;
        });
        Assert.Equal([true, false], invalidated);
        Assert.Equal("/canary/api/x?q=1", canary.Target);
        Assert.Equal("canary.internal", canary.Authority);
        Assert.Equal("/api/x", stable.Target);
        Assert.Equal("example.test", stable.Authority);
    }

    [Fact]
    public async Task LocalReply_ShortCircuitsTheChainAndSecondReplyIsRefused()
    {
        using var host = Start([Plugin("twice", "behaviors", "twice"), Plugin("headers", "behaviors", "headers")]);
        var request = Get("/");
        var outcome = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["twice", "headers"], Info());
            var result = await stream.OnRequestHeadersAsync(request, true);
            stream.Complete();
            return result;
        });
        Assert.Equal(FilterAction.LocalReply, outcome.Action);
        Assert.Equal(401, outcome.Reply!.StatusCode);
        Assert.Equal("first", Encoding.ASCII.GetString(outcome.Reply.Body.Span));
        Assert.False(request.Headers.Contains("x-added"));
    }

    [Fact]
    public async Task CloseStream_ResetsTheExchange()
    {
        using var host = Start([Plugin("close", "behaviors", "close")]);
        var outcome = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["close"], Info());
            var result = await stream.OnRequestHeadersAsync(Get("/"), true);
            stream.Complete();
            return result;
        });
        Assert.Equal(FilterAction.Reset, outcome.Action);
    }

    [Fact]
    public async Task Abi010Module_UsesTwoParameterCallbacksAndStubs()
    {
        using var host = Start([Plugin("old", "minimal_010", "")]);
        var request = Get("/");
        await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["old"], Info());
            await stream.OnRequestHeadersAsync(request, true);
            stream.Complete();
            return 0;
        });
        // gRPC call → INTERNAL_FAILURE (10, shown as ':'), unknown env import → 12, unknown WASI import → NOSYS 52.
        Assert.Equal(":,2,2", request.Headers.Get("x-stub-statuses"));
        Assert.True(host.Logs.Contains("proxy_made_up_call"));
    }

    private static int CountOf(HeaderCollection headers, string name)
    {
        int count = 0;
        for (int i = headers.IndexOf(name, 0); i >= 0; i = headers.IndexOf(name, i + 1))
        {
            count++;
        }
        return count;
    }
}
