using System.Net.Sockets;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>What a listener decides for its connections: the forwarded scheme and how many may be open.</summary>
public sealed class ListenerTests
{
    [Fact]
    public async Task AbsoluteFormHttpsTarget_OnPlainListener_ForwardedProtoIsHttp()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("GET https://a.test/x HTTP/1.1\r\nhost: a.test\r\nx-forwarded-proto: https\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        ReceivedRequest received = Assert.Single(upstream.Requests);
        Assert.Equal("http", received.Header("x-forwarded-proto"));
        Assert.Equal("GET /x HTTP/1.1", received.RequestLine);
    }

    [Fact]
    public async Task ListenerAtMaxConnections_ClosesNewOnesAtAccept_UntilOneEnds()
    {
        await using var upstream = new TestUpstream();
        string config = TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1)
            .Replace("\"port\": 0 }]", "\"port\": 0, \"maxConnections\": 2 }]", StringComparison.Ordinal);
        await using var gateway = await GatewayProcess.StartAsync(config);
        using var first = new RawClient(gateway.Port);
        using var second = new RawClient(gateway.Port);
        foreach (RawClient c in new[] { first, second })
        {
            await c.SendAsync(RawClient.Get("/held"));
            Assert.Equal(200, (await c.ReadResponseAsync())!.Status);
        }

        using (var third = new RawClient(gateway.Port))
        {
            // Closed without a byte of response, whatever it sends.
            await third.SendAsync(RawClient.Get("/refused"));
            Assert.Empty(await ReadUntilClosedAsync(third));
        }
        Assert.DoesNotContain(upstream.Requests, r => r.RequestLine.Contains("/refused", StringComparison.Ordinal));
        Assert.Single(await gateway.WaitForLogAsync("listener_at_capacity"));
        Assert.Contains("gateway_listener_connections_refused_total{listener=\"public\"} 1", await gateway.AdminGetAsync("/metrics"), StringComparison.Ordinal);

        first.Dispose();
        await Eventually(async () =>
        {
            using var again = new RawClient(gateway.Port);
            await again.SendAsync(RawClient.Get("/again"));
            return (await again.ReadResponseAsync(timeout: TimeSpan.FromSeconds(2)))?.Status == 200;
        });
    }

    [Fact]
    public async Task AdminAtMaxConnections_RefusesMore_ProbesWorkAgainAfter()
    {
        await using var upstream = new TestUpstream();
        string config = TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1)
            .Replace("\"admin\": { \"address\": \"127.0.0.1\", \"port\": 0 }", "\"admin\": { \"address\": \"127.0.0.1\", \"port\": 0, \"maxConnections\": 1 }", StringComparison.Ordinal);
        await using var gateway = await GatewayProcess.StartAsync(config);
        using (var holder = new TcpClient())
        {
            await holder.ConnectAsync("127.0.0.1", gateway.AdminPort, TestContext.Current.CancellationToken);
            await Task.Delay(200, TestContext.Current.CancellationToken);
            using var refused = new RawClient(gateway.AdminPort);
            await refused.SendAsync(RawClient.Get("/healthz"));
            Assert.Empty(await ReadUntilClosedAsync(refused));
        }
        string metrics = "";
        await Eventually(async () =>
        {
            try
            {
                metrics = await gateway.AdminGetAsync("/metrics");
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        });
        // At least the probe above; a scrape retried while the holder's slot was still being released counts too.
        string adminRefused = metrics.Split('\n').Single(l => l.StartsWith("gateway_listener_connections_refused_total{listener=\"admin\"}", StringComparison.Ordinal));
        Assert.True(long.Parse(adminRefused.Split(" ")[1]) >= 1, adminRefused);
    }

    /// <summary>Everything the gateway sent before closing (a reset counts as closed); fails if it stays open.</summary>
    internal static async Task<byte[]> ReadUntilClosedAsync(RawClient client)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            return await client.Reader.ReadToEndAsync(cts.Token);
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(100);
        }
    }
}
