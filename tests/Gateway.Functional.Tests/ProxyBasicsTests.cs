using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

public sealed class ProxyBasicsTests
{
    [Fact]
    public async Task SequentialRequests_ReuseOneUpstreamConnection()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        for (int i = 0; i < 100; i++)
        {
            await client.SendAsync(RawClient.Get($"/item/{i}"));
            var response = await client.ReadResponseAsync();
            Assert.Equal(200, response!.Status);
            Assert.Equal("hello", response.BodyText);
        }
        Assert.Equal(100, upstream.Requests.Count);
        Assert.Equal(1, upstream.ConnectionCount);
    }

    [Fact]
    public async Task EmptyBodiesDeclaredByContentLength_PassBothWaysAtOnce()
    {
        await using var upstream = new TestUpstream((request, stream) =>
            TestUpstream.WriteAsync(stream, "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"));
        // A request timeout long enough that a body waiting for it would show as a slow response.
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint), workers: 1, cluster: ", \"requestTimeoutMs\": 10000"));
        using var client = new RawClient(gateway.Port);
        for (int i = 0; i < 3; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await client.SendAsync($"POST /empty/{i} HTTP/1.1\r\nhost: a.test\r\ncontent-length: 0\r\n\r\n");
            var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(5));
            Assert.NotNull(response);
            Assert.Equal(201, response.Status);
            Assert.Empty(response.Body);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"request {i} took {watch.Elapsed}");
        }
        Assert.Equal(3, upstream.Requests.Count(r => r.RequestLine.StartsWith("POST /empty/", StringComparison.Ordinal) && r.Body.Length == 0));
    }

    [Fact]
    public async Task PipelinedRequests_AnsweredInOrder()
    {
        await using var upstream = new TestUpstream(async (request, stream) =>
        {
            string path = request.RequestLine.Split(' ')[1];
            // The first request is the slowest: a proxy that answered out of order would show it.
            if (path == "/0")
            {
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }
            await TestUpstream.WriteAsync(stream, $"HTTP/1.1 200 OK\r\ncontent-length: {path.Length}\r\n\r\n{path}");
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        using var client = new RawClient(gateway.Port);
        var all = new StringBuilder();
        for (int i = 0; i < 10; i++)
        {
            all.Append(RawClient.Get($"/{i}"));
        }
        await client.SendAsync(all.ToString());
        for (int i = 0; i < 10; i++)
        {
            var response = await client.ReadResponseAsync();
            Assert.Equal($"/{i}", response!.BodyText);
        }
    }

    [Fact]
    public async Task ChunkedBothWays_BodiesReframedAndTrailersHandled()
    {
        await using var upstream = new TestUpstream(async (request, stream) =>
            await TestUpstream.WriteAsync(stream,
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6; ext=1\r\n world\r\n0\r\nx-checksum: abc\r\n\r\n"));
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST /upload HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\n3;name=v\r\nabc\r\n4\r\ndefg\r\n0\r\nx-trailer: 1\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response!.Status);
        Assert.Equal("hello world", response.BodyText);
        Assert.Contains("x-checksum: abc", response.Head, StringComparison.OrdinalIgnoreCase);

        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("abcdefg", Encoding.ASCII.GetString(received.Body));
        Assert.Equal("chunked", received.Header("transfer-encoding"));
        Assert.Null(received.Header("content-length"));
        // Chunk extensions and request trailers are dropped (CH-4, CH-7); the upstream sees the gateway's framing only.
        Assert.DoesNotContain("x-trailer", received.Head, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ForwardedRequest_IsRebuiltWithForwardingFieldsAndNoHopByHop()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("GET /a?b=1 HTTP/1.1\r\nHost: A.Test:8080 \r\nConnection: keep-alive, x-drop-me\r\nX-Drop-Me: 1\r\nKeep-Alive: timeout=5\r\nX-Forwarded-For: 6.6.6.6\r\nX-Keep: yes\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("GET /a?b=1 HTTP/1.1", received.RequestLine);
        Assert.Equal("a.test:8080", received.Header("host"));
        Assert.Equal("yes", received.Header("x-keep"));
        Assert.Null(received.Header("x-drop-me"));
        Assert.Null(received.Header("keep-alive"));
        Assert.Null(received.Header("connection"));
        Assert.Equal("127.0.0.1", received.Header("x-forwarded-for"));
        Assert.Equal("http", received.Header("x-forwarded-proto"));
        Assert.Matches("^[0-9a-f]{32}$", received.Header("x-request-id"));

        // The same connection, the same Host, and hop-by-hop fields without a Connection field: still none forwarded.
        await client.SendAsync("GET /c HTTP/1.1\r\nHost: a.test:8080\r\nTE: trailers\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-Keep: again\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out received));
        Assert.Equal("a.test:8080", received.Header("host"));
        Assert.Equal("again", received.Header("x-keep"));
        Assert.Null(received.Header("te"));
        Assert.Null(received.Header("keep-alive"));
        Assert.Null(received.Header("proxy-connection"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForwardingFields_AreTheGatewaysOnly_OnePerRequest_WithOrWithoutPlugins(bool plugin)
    {
        // FW-2, FW-3: without plugins the gateway writes its own lines; with them, its fields, which plugins read.
        await using var upstream = new TestUpstream();
        string module = Path.Combine(RepoPaths.PluginsDir, "passthrough.wasm");
        string config = plugin
            ? TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint),
                routes: """{ "name": "api", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["p"] }""",
                extra: $$""", "plugins": { "p": { "module": "{{module}}" } }""")
            : TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint));
        await using var gateway = await GatewayProcess.StartAsync(config);
        using var client = new RawClient(gateway.Port);
        string spoofed = "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Forwarded-Port: 1\r\nForwarded: for=1.1.1.1\r\n";
        await client.SendAsync($"GET /1 HTTP/1.1\r\nHost: a.test\r\n{spoofed}X-Request-Id: not usable\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        await client.SendAsync($"GET /2 HTTP/1.1\r\nHost: a.test\r\n{spoofed}X-Request-Id: abc-123\r\nX-Request-Id: second\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        await client.SendAsync("GET /3 HTTP/1.1\r\nHost: a.test\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);

        ReceivedRequest[] received = [.. upstream.Requests];
        Assert.Equal(3, received.Length);
        foreach (ReceivedRequest r in received)
        {
            string[] names = [.. r.Head.Split("\r\n").Skip(1).Where(l => l.Length > 0).Select(l => l[..l.IndexOf(':')].ToLowerInvariant())];
            Assert.Equal(1, names.Count(n => n == "x-forwarded-for"));
            Assert.Equal(1, names.Count(n => n == "x-forwarded-proto"));
            Assert.Equal(1, names.Count(n => n == "x-request-id"));
            Assert.DoesNotContain("x-forwarded-host", names);
            Assert.DoesNotContain("x-forwarded-port", names);
            Assert.DoesNotContain("forwarded", names);
            Assert.Equal("127.0.0.1", r.Header("x-forwarded-for"));
            Assert.Equal("http", r.Header("x-forwarded-proto"));
        }
        Assert.Matches("^[0-9a-f]{32}$", received[0].Header("x-request-id"));
        Assert.Equal("abc-123", received[1].Header("x-request-id"));
        Assert.Matches("^[0-9a-f]{32}$", received[2].Header("x-request-id"));
        Assert.NotEqual(received[0].Header("x-request-id"), received[2].Header("x-request-id"));
    }

    [Fact]
    public async Task NoMatchingRoute_Answers404()
    {
        await using var upstream = new TestUpstream();
        string routes = """{ "name": "api", "match": { "host": "api.test", "pathPrefix": "/v1/" }, "cluster": "backend" }""";
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: routes));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/v1/x", host: "other.test"));
        Assert.Equal(404, (await client.ReadResponseAsync())!.Status);
        await client.SendAsync(RawClient.Get("/v2/x", host: "api.test"));
        Assert.Equal(404, (await client.ReadResponseAsync())!.Status);
        await client.SendAsync(RawClient.Get("/v1/x", host: "api.test"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Single(upstream.Requests);
    }

    [Fact]
    public async Task Routing_WildcardHostsExactPathsAndFirstMatchWins()
    {
        await using var a = new TestUpstream((r, s) => TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na"));
        await using var b = new TestUpstream((r, s) => TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nb"));
        string config = $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "a": { "endpoints": ["{{a.Endpoint}}"] }, "b": { "endpoints": ["{{b.Endpoint}}"] } },
          "routes": [
            { "name": "exact", "match": { "host": "*", "path": "/exact" }, "cluster": "b" },
            { "name": "wild", "match": { "host": "*.example.com", "pathPrefix": "/" }, "cluster": "b" },
            { "name": "rest", "match": { "host": "*", "pathPrefix": "/" }, "cluster": "a" }
          ]
        }
        """;
        await using var gateway = await GatewayProcess.StartAsync(config);
        using var client = new RawClient(gateway.Port);
        async Task<string> Body(string path, string host)
        {
            await client.SendAsync(RawClient.Get(path, host));
            return (await client.ReadResponseAsync())!.BodyText;
        }
        Assert.Equal("b", await Body("/exact", "x.test"));
        Assert.Equal("a", await Body("/exact/more", "x.test"));
        Assert.Equal("b", await Body("/", "api.example.com"));
        Assert.Equal("b", await Body("/", "a.b.example.com:8080"));
        Assert.Equal("a", await Body("/", "example.com"));
    }

    [Fact]
    public async Task ExpectContinue_GatewaySends100ThenStreamsBody()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST /p HTTP/1.1\r\nhost: a.test\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n");
        var interim = await client.ReadResponseAsync(keepInterim: true);
        Assert.Equal(100, interim!.Status);
        await client.SendAsync("data");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("data", Encoding.ASCII.GetString(received.Body));
        Assert.Null(received.Header("expect"));
    }

    [Fact]
    public async Task HeadAnd204Responses_CarryNoBody()
    {
        await using var upstream = new TestUpstream((r, s) => r.RequestLine.StartsWith("HEAD", StringComparison.Ordinal)
            ? TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
            : TestUpstream.WriteAsync(s, "HTTP/1.1 204 No Content\r\n\r\n"));
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("HEAD / HTTP/1.1\r\nhost: a.test\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync(headOnly: true))!.Status);
        await client.SendAsync(RawClient.Get("/nothing"));
        Assert.Equal(204, (await client.ReadResponseAsync())!.Status);
        await client.SendAsync(RawClient.Get("/again"));
        Assert.Equal(204, (await client.ReadResponseAsync())!.Status);
    }

    [Fact]
    public async Task Http10Client_GetsCloseDelimitedBodyAndConnectionCloses()
    {
        await using var upstream = new TestUpstream((r, s) =>
            TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("GET / HTTP/1.0\r\nhost: a.test\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal("abc", response!.BodyText);
        Assert.Null(response.Header("transfer-encoding"));
    }
}
