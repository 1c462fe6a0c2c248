using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>
/// A message with trailers ends, as in Envoy, with its trailer callbacks: every body callback says end_of_stream
/// false, a plugin that buffered the body reads it whole in its trailer callback, and what it buffered goes on (and
/// a held Higress head is released) when that callback continues.
/// </summary>
public sealed class TrailersEndTheStreamTests
{
    private static HeaderCollection Trailers(string name, string value)
    {
        var trailers = new HeaderCollection();
        trailers.Add(name, value);
        return trailers;
    }

    [Fact]
    public async Task WithTrailers_BodyCallbacksSayNotEnded_TrailersSeeTheWholeBufferedBody_BothWays()
    {
        using var host = Start([Plugin("eos", "sdk/end_of_stream", "")]);
        var response = new HttpResponseHead { StatusCode = 200 };
        var responseTrailers = Trailers("x-upstream-trailer", "u-1");
        var requestOut = new ArrayBufferWriter<byte>();
        var responseOut = new ArrayBufferWriter<byte>();
        var (beforeRequestTrailers, beforeResponseTrailers, requestTrailerPhase, responseTrailerPhase) = await host.OnWorker(async plugins =>
        {
            var stream = plugins.BeginStream(["eos"], Info());
            await stream.OnRequestHeadersAsync(Get("/"), false);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("hello "u8.ToArray()), false, requestOut);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("world"u8.ToArray()), false, requestOut);
            int beforeRequestTrailers = requestOut.WrittenCount;
            var requestTrailerPhase = await stream.OnRequestTrailersAsync(Trailers("x-client-trailer", "t-1"), requestOut);
            await stream.OnResponseHeadersAsync(response, false);
            await stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("ok"u8.ToArray()), false, responseOut);
            int beforeResponseTrailers = responseOut.WrittenCount;
            var responseTrailerPhase = await stream.OnResponseTrailersAsync(responseTrailers, responseOut);
            stream.Complete();
            return (beforeRequestTrailers, beforeResponseTrailers, requestTrailerPhase, responseTrailerPhase);
        });
        Assert.Equal(FilterAction.Continue, requestTrailerPhase.Action);
        Assert.Equal(FilterAction.Continue, responseTrailerPhase.Action);
        Assert.Equal("b0b0t:hello world", response.Headers.Get("x-request-calls"));
        Assert.Equal("b0t:ok", responseTrailers.Get("x-response-calls"));
        // The buffered bodies went on only when the trailer callbacks continued.
        Assert.Equal(0, beforeRequestTrailers);
        Assert.Equal(0, beforeResponseTrailers);
        Assert.Equal("hello world", Encoding.ASCII.GetString(requestOut.WrittenSpan));
        Assert.Equal("ok", Encoding.ASCII.GetString(responseOut.WrittenSpan));
    }

    [Fact]
    public async Task WithoutTrailers_TheLastBodyCallbackEndsTheStream()
    {
        using var host = Start([Plugin("eos", "sdk/end_of_stream", "")]);
        var response = new HttpResponseHead { StatusCode = 200 };
        var forwarded = new ArrayBufferWriter<byte>();
        await host.OnWorker(async plugins =>
        {
            var stream = plugins.BeginStream(["eos"], Info());
            await stream.OnRequestHeadersAsync(Get("/"), false);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("abc"u8.ToArray()), false, forwarded);
            await stream.OnRequestBodyAsync(ReadOnlySequence<byte>.Empty, true, forwarded);
            await stream.OnResponseHeadersAsync(response, true);
            stream.Complete();
            return 0;
        });
        Assert.Equal("b0b1", response.Headers.Get("x-request-calls"));
        Assert.Equal("abc", Encoding.ASCII.GetString(forwarded.WrittenSpan));
    }

    [Fact]
    public async Task BodyReleasedByATrailerCallback_PassesTheLaterPluginsInOrder()
    {
        // "body" holds until end_of_stream and would rewrite the body there; with trailers it never sees the end in a
        // body callback (as in Envoy), so the bytes pass it unchanged once its own trailer callback continues.
        using var host = Start([Plugin("eos", "sdk/end_of_stream", ""), Plugin("body", "behaviors", "body")]);
        var response = new HttpResponseHead { StatusCode = 200 };
        var forwarded = new ArrayBufferWriter<byte>();
        var outcome = await host.OnWorker(async plugins =>
        {
            var stream = plugins.BeginStream(["eos", "body"], Info());
            await stream.OnRequestHeadersAsync(Get("/"), false);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("abc"u8.ToArray()), false, forwarded);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("def"u8.ToArray()), false, forwarded);
            var outcome = await stream.OnRequestTrailersAsync(Trailers("x-t", "1"), forwarded);
            await stream.OnResponseHeadersAsync(response, true);
            stream.Complete();
            return outcome;
        });
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.Equal("b0b0t:abcdef", response.Headers.Get("x-request-calls"));
        Assert.Equal("abcdef", Encoding.ASCII.GetString(forwarded.WrittenSpan));
    }

    [Fact]
    public async Task HeldRequestHead_ReleasedByTheTrailerCallback_WithTheWholeBody()
    {
        using var host = Start([Plugin("hold", "higress_hold", ""), Plugin("headers", "behaviors", "headers")]);
        var request = Get("/upload");
        var forwarded = new ArrayBufferWriter<byte>();
        var (heldAfterBody, addedBeforeTrailers, outcome, heldAfterTrailers) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["hold", "headers"], Info());
            await stream.OnRequestHeadersAsync(request, false);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("hello "u8.ToArray()), false, forwarded);
            await stream.OnRequestBodyAsync(new ReadOnlySequence<byte>("world"u8.ToArray()), false, forwarded);
            bool heldAfterBody = stream.HeadersHeld;
            string? addedBeforeTrailers = request.Headers.Get("x-added");
            var outcome = await stream.OnRequestTrailersAsync(Trailers("x-t", "1"), forwarded);
            bool heldAfterTrailers = stream.HeadersHeld;
            stream.Complete();
            return (heldAfterBody, addedBeforeTrailers, outcome, heldAfterTrailers);
        });
        Assert.True(heldAfterBody);
        Assert.Null(addedBeforeTrailers);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.False(heldAfterTrailers);
        // The holding plugin read its whole buffered body in the trailer callback; the next plugin then got the head.
        Assert.Equal("11", request.Headers.Get("x-trailer-body-bytes"));
        Assert.Null(request.Headers.Get("x-body-bytes"));
        Assert.Equal("1", request.Headers.Get("x-added"));
        Assert.Equal("hello world", Encoding.ASCII.GetString(forwarded.WrittenSpan));
    }

    [Fact]
    public async Task HeldResponseHead_ReleasedByTheTrailerCallback_WithTheWholeBody()
    {
        using var host = Start([Plugin("hold", "higress_hold", "response")]);
        var response = new HttpResponseHead { StatusCode = 200 };
        var forwarded = new ArrayBufferWriter<byte>();
        var (heldAfterBody, outcome, heldAfterTrailers) = await host.OnWorker(async worker =>
        {
            var stream = worker.BeginStream(["hold"], Info());
            await stream.OnRequestHeadersAsync(Get("/"), false);
            await stream.OnRequestBodyAsync(ReadOnlySequence<byte>.Empty, true, new ArrayBufferWriter<byte>());
            await stream.OnResponseHeadersAsync(response, false);
            await stream.OnResponseBodyAsync(new ReadOnlySequence<byte>("{\"id\":1}"u8.ToArray()), false, forwarded);
            bool heldAfterBody = stream.HeadersHeld;
            var outcome = await stream.OnResponseTrailersAsync(Trailers("x-t", "1"), forwarded);
            bool heldAfterTrailers = stream.HeadersHeld;
            stream.Complete();
            return (heldAfterBody, outcome, heldAfterTrailers);
        });
        Assert.True(heldAfterBody);
        Assert.Equal(FilterAction.Continue, outcome.Action);
        Assert.False(heldAfterTrailers);
        Assert.Equal("8", response.Headers.Get("x-trailer-body-bytes"));
        Assert.Equal("{\"id\":1}", Encoding.ASCII.GetString(forwarded.WrittenSpan));
    }
}
