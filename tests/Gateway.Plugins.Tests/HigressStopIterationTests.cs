using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>
/// docs/proxy-wasm.md, 'Stream control': a Higress 0.2.100 module's header result 1 is StopIteration. The headers wait, the body callbacks keep
/// coming, and the headers go on with the first data the chain lets through.
/// </summary>
public sealed class HigressStopIterationTests
{
    [Fact]
    public async Task HeldHeaders_BodyCallbacksContinueAndReleaseTheHeadersWithTheData()
    {
        using var host = Start([Plugin("hold", "higress_hold", "")]);
        var request = Get("/upload");
        var forwarded = new ArrayBufferWriter<byte>();
        var (headers, heldAfterHeaders, first, heldAfterFirst, forwardedAfterFirst, last, heldAfterLast) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["hold"], Info());
            var headers = await stream.OnRequestHeadersAsync(request, false);
            bool heldAfterHeaders = stream.HeadersHeld;
            var first = await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("hello "u8.ToArray()), false, forwarded);
            bool heldAfterFirst = stream.HeadersHeld;
            int forwardedAfterFirst = forwarded.WrittenCount;
            var last = await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("world"u8.ToArray()), true, forwarded);
            bool heldAfterLast = stream.HeadersHeld;
            stream.Complete();
            return (headers, heldAfterHeaders, first, heldAfterFirst, forwardedAfterFirst, last, heldAfterLast);
        });
        Assert.Equal(FilterAction.HoldHeaders, headers.Action);
        Assert.True(heldAfterHeaders);
        Assert.Equal(FilterAction.Continue, first.Action);
        Assert.True(heldAfterFirst);
        Assert.Equal(0, forwardedAfterFirst);
        Assert.Equal(FilterAction.Continue, last.Action);
        Assert.False(heldAfterLast);
        Assert.Equal("hello world", Encoding.ASCII.GetString(forwarded.WrittenSpan));
        Assert.Equal("11", request.Headers.Get("x-body-bytes"));
    }

    [Fact]
    public async Task HeldHeaders_ReachTheNextPluginOnlyWhenReleased()
    {
        using var host = Start([Plugin("hold", "higress_hold", ""), Plugin("headers", "behaviors", "headers")]);
        var request = Get("/upload");
        var forwarded = new ArrayBufferWriter<byte>();
        var (addedWhileHeld, last) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["hold", "headers"], Info());
            await stream.OnRequestHeadersAsync(request, false);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("abc"u8.ToArray()), false, forwarded);
            string? addedWhileHeld = request.Headers.Get("x-added");
            var last = await stream.OnRequestBodyAsync(ReadOnlySequence<byte>.Empty, true, forwarded);
            stream.Complete();
            return (addedWhileHeld, last);
        });
        Assert.Null(addedWhileHeld);
        Assert.Equal(FilterAction.Continue, last.Action);
        Assert.Equal("1", request.Headers.Get("x-added"));
        Assert.Equal("3", request.Headers.Get("x-body-bytes"));
        Assert.Equal("abc", Encoding.ASCII.GetString(forwarded.WrittenSpan));
    }

    [Fact]
    public async Task ReleasedHeaders_PausedByTheNextPlugin_ReachItsBodyCallbackAfterContinue()
    {
        // The second plugin (ABI 0.2.1) pauses in the header callback the released data brings along; when its tick
        // continues the stream, the same data goes on to its body callback and out.
        using var host = Start([Plugin("hold", "higress_hold", ""), Plugin("postpone", "behaviors", "postpone")]);
        var request = Get("/upload");
        var forwarded = new ArrayBufferWriter<byte>();
        var (wasPending, outcome, held) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["hold", "postpone"], Info());
            await stream.OnRequestHeadersAsync(request, false);
            var pending = stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("abc"u8.ToArray()), true, forwarded);
            bool paused = !pending.IsCompleted;
            var result = await pending;
            bool held = stream.HeadersHeld;
            stream.Complete();
            return (paused, result, held);
        });
        Assert.True(wasPending);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.False(held);
        Assert.Equal("3", request.Headers.Get("x-body-bytes"));
        Assert.Equal("1", request.Headers.Get("x-postponed"));
        Assert.Equal("abc", Encoding.ASCII.GetString(forwarded.WrittenSpan));
    }

    [Fact]
    public async Task StopIterationWithoutBody_PausesUntilContinueStream()
    {
        using var host = Start([Plugin("hold", "higress_hold", "")]);
        var request = Get("/no-body");
        var (wasPending, outcome) = await AsyncTests.RunHeadersThroughPause(host, "hold", request);
        Assert.True(wasPending);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.Equal("tick", request.Headers.Get("x-resumed"));
    }

    [Fact]
    public async Task HeldResponseHeaders_ReleasedWithTheBodyTheyWaitedFor()
    {
        using var host = Start([Plugin("hold", "higress_hold", "response")]);
        var response = new HttpResponseHead { StatusCode = 200 };
        var forwarded = new ArrayBufferWriter<byte>();
        var (headers, first, heldAfterFirst, last, heldAfterLast) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["hold"], Info());
            await stream.OnRequestHeadersAsync(Get("/"), false);
            await stream.OnRequestBodyAsync(ReadOnlySequence<byte>.Empty, true, new ArrayBufferWriter<byte>());
            var headers = await stream.OnResponseHeadersAsync(response, false);
            var first = await stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("{\"id\":"u8.ToArray()), false, forwarded);
            bool heldAfterFirst = stream.HeadersHeld;
            var last = await stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("1}"u8.ToArray()), true, forwarded);
            bool heldAfterLast = stream.HeadersHeld;
            stream.Complete();
            return (headers, first, heldAfterFirst, last, heldAfterLast);
        });
        Assert.Equal(FilterAction.HoldHeaders, headers.Action);
        Assert.Equal(FilterAction.Continue, first.Action);
        Assert.True(heldAfterFirst);
        Assert.Equal(FilterAction.Continue, last.Action);
        Assert.False(heldAfterLast);
        Assert.Equal("{\"id\":1}", Encoding.ASCII.GetString(forwarded.WrittenSpan));
        Assert.Equal("8", response.Headers.Get("x-body-bytes"));
    }

    [Fact]
    public async Task HeldResponseHeaders_ReachTheEarlierPluginOnlyWhenReleased()
    {
        // Response phases run the chain in reverse: the holding plugin is last in the route, so it runs first.
        using var host = Start([Plugin("headers", "behaviors", "headers"), Plugin("hold", "higress_hold", "response")]);
        var response = new HttpResponseHead { StatusCode = 200 };
        var forwarded = new ArrayBufferWriter<byte>();
        var (addedWhileHeld, last) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["headers", "hold"], Info());
            await stream.OnRequestHeadersAsync(Get("/"), false);
            await stream.OnRequestBodyAsync(ReadOnlySequence<byte>.Empty, true, new ArrayBufferWriter<byte>());
            await stream.OnResponseHeadersAsync(response, false);
            await stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("ab"u8.ToArray()), false, forwarded);
            string? addedWhileHeld = response.Headers.Get("x-response");
            var last = await stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("c"u8.ToArray()), true, forwarded);
            stream.Complete();
            return (addedWhileHeld, last);
        });
        Assert.Null(addedWhileHeld);
        Assert.Equal(FilterAction.Continue, last.Action);
        Assert.Equal("yes", response.Headers.Get("x-response"));
        Assert.Equal("3", response.Headers.Get("x-body-bytes"));
        Assert.Equal("abc", Encoding.ASCII.GetString(forwarded.WrittenSpan));
    }
}
