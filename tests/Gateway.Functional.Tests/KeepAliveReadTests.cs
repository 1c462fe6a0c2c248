using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>
/// Between requests a keep-alive connection waits for data without a buffer and reads its next request when it comes,
/// whatever the pause, even one that splits a head; connections that went quiet hold no read buffer.
/// </summary>
public sealed class KeepAliveReadTests
{
    [Fact]
    public async Task NextRequest_ServedAfterAnyPause()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        foreach (int pauseMs in new[] { 0, 5, 300, 0, 120, 0, 1, 80 })
        {
            await Task.Delay(pauseMs, TestContext.Current.CancellationToken);
            await client.SendAsync(RawClient.Get());
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        }
        Assert.Equal(8, upstream.Requests.Count);
    }

    [Fact]
    public async Task RequestSplitByAPause_IsStillOneRequest()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        for (int i = 0; i < 2; i++)
        {
            await client.SendAsync(RawClient.Get());
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        }
        await client.SendAsync("GET /split HTTP/1.1\r\nho");
        await Task.Delay(150, TestContext.Current.CancellationToken);
        await client.SendAsync("st: a.test\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Contains(upstream.Requests, r => r.RequestLine == "GET /split HTTP/1.1");
    }

    [Fact]
    public async Task QuietConnections_HoldNoReadBuffer()
    {
        // Enough connections that a one-off step of the process's RSS (the GC committing a region, several MB) stays
        // under the bound per connection, while a 16 KiB buffer kept by each would still show at once.
        const int Connections = 1000;
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        // Thousands of requests first, then a batch of connections opened and closed: the heap, its young generation
        // and the pools grow to what this load needs, so the measured growth is what quiet connections hold.
        using (var warm = new RawClient(gateway.Port))
        {
            for (int i = 0; i < 5000; i++)
            {
                await warm.SendAsync(RawClient.Get());
                Assert.Equal(200, (await warm.ReadResponseAsync())!.Status);
            }
        }
        await OpenEachWithOneRequestAsync(gateway, Connections, close: true);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        long before = gateway.ResidentBytes();
        var clients = await OpenEachWithOneRequestAsync(gateway, Connections, close: false);
        try
        {
            // A connection used once waits without a buffer at once; one that earned the active window gives its buffer
            // back after it (NextRequest_ServedAfterAnyPause goes through that path).
            await Task.Delay(500, TestContext.Current.CancellationToken);
            long perConnection = (gateway.ResidentBytes() - before) / Connections;
            // A 16 KiB read buffer kept by every quiet connection would show as more than that each.
            Assert.True(perConnection < 10 * 1024, $"{perConnection} bytes per idle connection");
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<List<RawClient>> OpenEachWithOneRequestAsync(GatewayProcess gateway, int count, bool close)
    {
        var clients = new List<RawClient>();
        for (int i = 0; i < count; i++)
        {
            var client = new RawClient(gateway.Port);
            clients.Add(client);
            await client.SendAsync(RawClient.Get());
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        }
        if (close)
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
            clients.Clear();
        }
        return clients;
    }
}
