using System.Diagnostics;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests.Plugins;

/// <summary>
/// docs/proxy-wasm.md, 'Stream control' through the real gateway: a Higress 0.2.100 plugin whose request-header callback returns 1
/// (StopIteration) sees the whole body before the request head goes upstream, with the header it added then; the
/// same holds for the response head toward the client.
/// </summary>
public sealed class HigressAbiTests
{
    private static string Hold => RepoPaths.TestModule("higress_hold");

    private static string Behaviors => RepoPaths.TestModule("behaviors");

    private static string Config(string upstream, string routePlugins = "\"hold\"", string limits = "", string holdConfiguration = "")
    {
        return $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "limits": { {{limits}} },
          "clusters": { "backend": { "endpoints": ["{{upstream}}"], "requestTimeoutMs": 10000 } },
          "routes": [ { "name": "all", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": [{{routePlugins}}] } ],
          "plugins": {
            "hold": { "module": "{{Hold}}", "configuration": "{{holdConfiguration}}", "limits": { "cpuMillisecondsPerCall": 1000 } },
            "after": { "module": "{{Behaviors}}", "configuration": "headers", "limits": { "cpuMillisecondsPerCall": 1000 } }
          }
        }
        """;
    }

    [Fact]
    public async Task ChunkedPost_ReachesUpstreamWithTheHeaderAddedAfterTheWholeBody()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint));
        using var client = new RawClient(gateway.Port);
        var clock = Stopwatch.StartNew();
        await client.SendAsync("POST /chat HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello \r\n");
        // The second chunk comes later: the plugin's body callbacks must keep running while it holds the headers.
        await Task.Delay(200, TestContext.Current.CancellationToken);
        await client.SendAsync("5\r\nworld\r\n0\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response!.Status);
        // Before, the request waited for the route's 10 s request timeout and got 504.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("11", received.Header("x-body-bytes"));
        Assert.Equal("11", received.Header("content-length"));
        Assert.Equal("hello world", Encoding.ASCII.GetString(received.Body));
    }

    [Fact]
    public async Task HeadReleasedWithTheFirstChunk_GoesUpstreamBeforeTheBodyEnds()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, holdConfiguration: "early"));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST /upload HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello \r\n");
        // The plugin let the first chunk through: the head must not wait for the rest of the body.
        var clock = Stopwatch.StartNew();
        while (upstream.ConnectionCount == 0 && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        Assert.Equal(1, upstream.ConnectionCount);
        await client.SendAsync("5\r\nworld\r\n0\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("6", received.Header("x-first-body-bytes"));
        Assert.Equal("chunked", received.Header("transfer-encoding"));
        Assert.Equal("hello world", Encoding.ASCII.GetString(received.Body));

        // The connection serves the next request, released the same way, with a declared length this time: the rest of
        // the body continues from where the release left it.
        await client.SendAsync("POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: 7\r\n\r\nhel");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        await client.SendAsync("lo!!");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var next));
        Assert.Equal("hello!!", Encoding.ASCII.GetString(next.Body));
    }

    [Fact]
    public async Task ContentLengthPosts_OnOneConnection_EachCarriesItsOwnBodySize()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint));
        using var client = new RawClient(gateway.Port);
        foreach (string body in new[] { "{\"prompt\":\"first\"}", "{}" })
        {
            await client.SendAsync($"POST /chat HTTP/1.1\r\nhost: a.test\r\ncontent-length: {body.Length}\r\n\r\n{body}");
            var response = await client.ReadResponseAsync();
            Assert.Equal(200, response!.Status);
            Assert.False(response.Closes);
            Assert.True(upstream.Requests.TryDequeue(out var received));
            Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("x-body-bytes"));
            Assert.Equal(body, Encoding.ASCII.GetString(received.Body));
        }
    }

    [Fact]
    public async Task EmptyChunkedPost_GoesUpstreamWithAZeroLength()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST / HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("0", received.Header("x-body-bytes"));
        Assert.Equal("0", received.Header("content-length"));
        Assert.Empty(received.Body);
    }

    [Fact]
    public async Task HeldHeaders_ReachTheNextPluginWhenReleased()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, routePlugins: "\"hold\", \"after\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST / HTTP/1.1\r\nhost: a.test\r\ncontent-length: 3\r\n\r\nabc");
        // The second plugin also rewrites the response status to 201.
        Assert.Equal(201, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("3", received.Header("x-body-bytes"));
        Assert.Equal("1", received.Header("x-added"));
    }

    [Fact]
    public async Task HeldBodyOverMaxBodyBytes_Gets413AndNothingGoesUpstream()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, limits: "\"maxBodyBytes\": 100"));
        using var client = new RawClient(gateway.Port);
        string chunk = new('x', 80);
        await client.SendAsync($"POST / HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\n50\r\n{chunk}\r\n50\r\n{chunk}\r\n0\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(413, response!.Status);
        Assert.Empty(upstream.Requests);
        Assert.Equal(0, upstream.ConnectionCount);
    }

    [Fact]
    public async Task GetWithoutBody_WaitsForContinueStreamThenCompletes()
    {
        // With no body to come, StopIteration can only end by proxy_continue_stream: the plugin sends it on its tick.
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/models"));
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("tick", received.Header("x-resumed"));
        Assert.Null(received.Header("x-body-bytes"));
    }

    [Fact]
    public async Task HeldResponseHead_ReachesTheClientWithTheHeaderAddedAfterTheWholeBody()
    {
        await using var upstream = new TestUpstream(static async (request, stream) =>
        {
            await TestUpstream.WriteAsync(stream, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n7\r\n{\"id\":1\r\n");
            await Task.Delay(200, TestContext.Current.CancellationToken);
            await TestUpstream.WriteAsync(stream, "1\r\n}\r\n0\r\n\r\n");
        });
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, holdConfiguration: "response"));
        using var client = new RawClient(gateway.Port);
        for (int i = 0; i < 2; i++)
        {
            await client.SendAsync(RawClient.Get("/models"));
            var response = await client.ReadResponseAsync();
            Assert.Equal(200, response!.Status);
            Assert.Equal("8", response.Header("x-body-bytes"));
            Assert.Equal("{\"id\":1}", response.BodyText);
            Assert.False(response.Closes);
        }
    }

    [Fact]
    public async Task HeldResponseOverMaxBodyBytes_Gets500()
    {
        // Three chunks the plugin keeps while it holds the head: the second passes the limit.
        string chunk = new('x', 80);
        await using var upstream = new TestUpstream((request, stream) =>
            TestUpstream.WriteAsync(stream, $"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n50\r\n{chunk}\r\n50\r\n{chunk}\r\n50\r\n{chunk}\r\n0\r\n\r\n"));
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, limits: "\"maxBodyBytes\": 100", holdConfiguration: "response"));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/large"));
        var response = await client.ReadResponseAsync();
        Assert.Equal(500, response!.Status);
        Assert.Null(response.Header("x-body-bytes"));
    }
}
