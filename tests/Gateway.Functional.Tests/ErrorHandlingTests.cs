using System.Diagnostics;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

public sealed class ErrorHandlingTests
{
    [Theory]
    [InlineData("request line", 414)]
    [InlineData("headers", 431)]
    [InlineData("body", 413)]
    public async Task OverLimit_AnswersStatusClosesAndSendsNothingUpstream(string what, int expected)
    {
        await using var upstream = new TestUpstream();
        string limits = "\"maxRequestLineBytes\": 256, \"maxHeaderBytes\": 1024, \"maxBodyBytes\": 100";
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: limits));
        using var client = new RawClient(gateway.Port);
        string request = what switch
        {
            "request line" => RawClient.Get("/" + new string('a', 400)),
            "headers" => RawClient.Get("/", extra: $"x-big: {new string('b', 2000)}\r\n"),
            _ => "POST / HTTP/1.1\r\nhost: a.test\r\ncontent-length: 101\r\n\r\n" + new string('c', 101),
        };
        await client.SendAsync(request);
        var response = await client.ReadResponseAsync();
        Assert.Equal(expected, response!.Status);
        Assert.True(response.Closes);
        Assert.True(await client.IsClosedAsync());
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task ChunkedBodyOverLimit_Answers413()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: "\"maxBodyBytes\": 10"));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST / HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(413, response!.Status);
        // CH-9: the upstream never sees a complete request.
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task Slowloris_HeadNotCompleteInTime_Answers408AndCloses()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: "\"headerTimeoutMs\": 500"));
        using var client = new RawClient(gateway.Port);
        var clock = Stopwatch.StartNew();
        // Trickled bytes do not extend the deadline (TO-1).
        foreach (char c in "GET / HTTP/1.1\r\nhost: a.test\r\nx-slow: ")
        {
            try
            {
                await client.SendAsync(c.ToString());
            }
            catch (IOException)
            {
                break;
            }
            await Task.Delay(40, TestContext.Current.CancellationToken);
        }
        var response = await client.ReadResponseAsync();
        Assert.Equal(408, response!.Status);
        Assert.InRange(clock.ElapsedMilliseconds, 400, 5000);
        Assert.True(await client.IsClosedAsync());
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task IdleKeepAlive_ClosedSilentlyAfterIdleTimeout()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: "\"idleTimeoutMs\": 300"));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task UpstreamDown_Answers502()
    {
        using var closed = ClosedPort.Any();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote($"127.0.0.1:{closed.Port}")));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        var response = await client.ReadResponseAsync();
        Assert.Equal(502, response!.Status);
        Assert.NotEmpty(await gateway.WaitForLogAsync("connect_refused"));
    }

    [Fact]
    public async Task UpstreamTooSlow_Answers504WithinRequestTimeout()
    {
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            await Task.Delay(3000, TestContext.Current.CancellationToken);
            await TestUpstream.OkAsync(r, s);
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), cluster: ", \"requestTimeoutMs\": 300"));
        using var client = new RawClient(gateway.Port);
        var clock = Stopwatch.StartNew();
        await client.SendAsync(RawClient.Get());
        var response = await client.ReadResponseAsync();
        Assert.Equal(504, response!.Status);
        Assert.InRange(clock.ElapsedMilliseconds, 250, 2500);
    }

    [Fact]
    public async Task MalformedUpstreamResponse_Answers502()
    {
        await using var upstream = new TestUpstream((r, s) =>
            TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!"));
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        Assert.Equal(502, (await client.ReadResponseAsync())!.Status);
    }

    [Fact]
    public async Task UpstreamClosesMidBody_ClientSeesTruncatedMessageNotACompleteOne()
    {
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            await TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-part");
            s.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        var head = await client.ReadResponseAsync(headOnly: true);
        Assert.Equal(200, head!.Status);
        long got = await client.Reader.SkipAsync(100, TestContext.Current.CancellationToken);
        Assert.Equal("only-part".Length, got);
    }

    [Fact]
    public async Task EndpointFailing_IsEjectedThenRecovers()
    {
        // Down until revived below: a port held closed, let go just before its server starts.
        using var dead = ClosedPort.Any();
        int deadPort = dead.Port;
        await using var alive = new TestUpstream();
        string cluster = ", \"ejection\": { \"consecutiveFailures\": 2, \"cooldownMs\": 1500 }";
        await using var gateway = await GatewayProcess.StartAsync(
            TestConfig.Proxy(TestConfig.Quote($"127.0.0.1:{deadPort}", alive.Endpoint), workers: 1, cluster: cluster));
        using var client = new RawClient(gateway.Port);
        for (int i = 0; i < 20; i++)
        {
            await client.SendAsync(RawClient.Get());
            // GET is idempotent: a refused connect is retried on the other endpoint (KA-7).
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        }
        string metrics = await gateway.AdminGetAsync("/metrics");
        Assert.Contains("gateway_upstream_ejections_total{cluster=\"backend\"} 1", metrics);
        // While ejected the dead endpoint is skipped: only the failures before the ejection were counted.
        Assert.Contains("gateway_upstream_errors_total{cluster=\"backend\",cause=\"connect_refused\"} 2", metrics);

        dead.Dispose();
        await using var revived = new TestUpstream(port: deadPort);
        await Task.Delay(1800, TestContext.Current.CancellationToken);
        for (int i = 0; i < 10; i++)
        {
            await client.SendAsync(RawClient.Get());
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        }
        Assert.NotEmpty(revived.Requests);
    }

    [Fact]
    public async Task StalePooledConnection_IsNotReusedForTheNextRequest()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        upstream.DropConnections();
        await Task.Delay(100, TestContext.Current.CancellationToken);
        await client.SendAsync(RawClient.Get());
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(2, upstream.ConnectionCount);
    }

    [Fact]
    public async Task StalePooledConnection_PostIsNeverSentOnIt()
    {
        // A POST may not be retried, so only noticing the close while the connection sat in the pool saves it.
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        upstream.DropConnections();
        await Task.Delay(100, TestContext.Current.CancellationToken);
        await client.SendAsync("POST /orders HTTP/1.1\r\nhost: a.test\r\ncontent-length: 5\r\n\r\nhello");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(2, upstream.ConnectionCount);
        Assert.Contains(upstream.Requests, r => r.RequestLine.StartsWith("POST /orders", StringComparison.Ordinal) && r.ConnectionId == 2);
    }

    [Fact]
    public async Task PooledConnection_BytesArrivingWhileIdle_AreNeverTakenAsTheNextResponse()
    {
        // The first response is followed by a stray second one once the gateway has pooled the connection.
        int served = 0;
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            await TestUpstream.OkAsync(r, s);
            if (Interlocked.Increment(ref served) == 1)
            {
                await Task.Delay(50);
                await TestUpstream.WriteAsync(s, "HTTP/1.1 418 I'm a teapot\r\ncontent-length: 0\r\n\r\n");
            }
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        await client.SendAsync("DELETE /item HTTP/1.1\r\nhost: a.test\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(2, upstream.ConnectionCount);
    }

    [Fact]
    public async Task ConnectionCapReached_RequestsQueueForAReleasedConnection()
    {
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            await Task.Delay(150);
            await TestUpstream.OkAsync(r, s);
        });
        await using var gateway = await GatewayProcess.StartAsync(
            TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1, cluster: ", \"maxConnectionsPerWorker\": 1, \"connectTimeoutMs\": 5000"));
        var clients = Enumerable.Range(0, 3).Select(_ => new RawClient(gateway.Port)).ToArray();
        foreach (var c in clients)
        {
            await c.SendAsync(RawClient.Get());
        }
        foreach (var c in clients)
        {
            Assert.Equal(200, (await c.ReadResponseAsync())!.Status);
            c.Dispose();
        }
        Assert.Equal(1, upstream.ConnectionCount);
    }

    [Fact]
    public async Task ConnectionCapReached_WaitLongerThanConnectTimeout_Answers503()
    {
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            await Task.Delay(2000);
            await TestUpstream.OkAsync(r, s);
        });
        await using var gateway = await GatewayProcess.StartAsync(
            TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1, cluster: ", \"maxConnectionsPerWorker\": 1, \"connectTimeoutMs\": 200"));
        using var first = new RawClient(gateway.Port);
        using var second = new RawClient(gateway.Port);
        await first.SendAsync(RawClient.Get("/slow"));
        await Task.Delay(100, TestContext.Current.CancellationToken);
        await second.SendAsync(RawClient.Get("/queued"));
        Assert.Equal(503, (await second.ReadResponseAsync())!.Status);
        Assert.Equal(200, (await first.ReadResponseAsync())!.Status);
    }
}
