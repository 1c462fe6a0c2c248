using System.Net.Sockets;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests.Plugins;

/// <summary>
/// Chunked messages with trailers through the published binary: as in Envoy, the body callbacks all say end_of_stream
/// false and the trailer callbacks end the stream, in both directions; a plugin that buffers until the end reads the
/// whole body in its trailer callback, and a held Higress head is released there.
/// </summary>
public sealed class TrailersTests
{
    private static string Config(string upstream, string module, string configuration = "")
    {
        return $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "backend": { "endpoints": ["{{upstream}}"], "requestTimeoutMs": 10000 } },
          "routes": [ { "name": "all", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["p"] } ],
          "plugins": { "p": { "module": "{{RepoPaths.TestModule(module)}}", "configuration": "{{configuration}}", "limits": { "cpuMillisecondsPerCall": 1000 } } }
        }
        """;
    }

    /// <summary>Answers a chunked "hello" in two chunks with a trailer; anything else gets the plain answer.</summary>
    private static async Task ChunkedWithTrailer(ReceivedRequest request, NetworkStream stream)
    {
        if (!request.RequestLine.StartsWith("GET /trailers", StringComparison.Ordinal))
        {
            await TestUpstream.OkAsync(request, stream);
            return;
        }
        await TestUpstream.WriteAsync(stream, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n");
        await Task.Delay(50);
        await TestUpstream.WriteAsync(stream, "2\r\nlo\r\n0\r\nx-upstream-trailer: u-1\r\n\r\n");
    }

    [Fact]
    public async Task BufferingPlugin_BodyCallbacksNeverSayEnded_TrailerCallbacksEndTheStreamBothWays()
    {
        await using var upstream = new TestUpstream(ChunkedWithTrailer);
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, "sdk/end_of_stream"), aot: true);
        using var client = new RawClient(gateway.Port);

        await client.SendAsync("POST /upload HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello \r\n");
        await Task.Delay(100, TestContext.Current.CancellationToken);
        await client.SendAsync("5\r\nworld\r\n0\r\nx-client-trailer: t-1\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response!.Status);
        // One or more body callbacks (as the bytes arrived), none saying end_of_stream, then the trailer callback
        // reading the whole buffered body.
        Assert.Matches("^(b0)+t:hello world$", response.Header("x-request-calls"));
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("hello world", Encoding.ASCII.GetString(received.Body));

        await client.SendAsync(RawClient.Get("/trailers"));
        var chunked = await client.ReadResponseAsync();
        Assert.Equal(200, chunked!.Status);
        Assert.Equal("hello", chunked.BodyText);
        Assert.Equal("u-1", chunked.Header("x-upstream-trailer"));
        Assert.Matches("^(b0)+t:hello$", chunked.Header("x-response-calls"));

        // Without trailers the last body callback still ends the stream.
        await client.SendAsync("POST /plain HTTP/1.1\r\nhost: a.test\r\ncontent-length: 3\r\n\r\nabc");
        var plain = await client.ReadResponseAsync();
        Assert.Matches("^(b0)*b1$", plain!.Header("x-request-calls"));
    }

    [Fact]
    public async Task HeldRequestHead_ReleasedByTheTrailerCallback_WithWhatItAddedThere()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, "higress_hold"), aot: true);
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST /chat HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello \r\n");
        await Task.Delay(100, TestContext.Current.CancellationToken);
        await client.SendAsync("5\r\nworld\r\n0\r\nx-client-trailer: t-1\r\n\r\n");
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(8));
        Assert.Equal(200, response!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("11", received.Header("x-trailer-body-bytes"));
        // No body callback saw the end of the stream: the header the plugin adds there is missing, as in Envoy.
        Assert.Null(received.Header("x-body-bytes"));
        Assert.Equal("11", received.Header("content-length"));
        Assert.Equal("hello world", Encoding.ASCII.GetString(received.Body));
    }

    [Fact]
    public async Task HeldResponseHead_ReleasedByTheTrailerCallback_WithTheBodyAndTrailers()
    {
        await using var upstream = new TestUpstream(ChunkedWithTrailer);
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, "higress_hold", "response"), aot: true);
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/trailers"));
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(8));
        Assert.Equal(200, response!.Status);
        Assert.Equal("5", response.Header("x-trailer-body-bytes"));
        Assert.Null(response.Header("x-body-bytes"));
        Assert.Equal("hello", response.BodyText);
        Assert.Equal("u-1", response.Header("x-upstream-trailer"));
    }
}
