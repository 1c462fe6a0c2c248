using System.Text.Json.Nodes;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>
/// However an exchange ends (proxied, answered by the gateway or a plugin, failed on either side or in a plugin,
/// abandoned by the client), it is counted once in gateway_requests_total, has one access log line and at most one error line.
/// </summary>
public sealed class ExchangeEndTests
{
    [Fact]
    public async Task EveryWayAnExchangeEnds_CountedOnceLoggedOnce()
    {
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            string path = r.RequestLine.Split(' ')[1];
            switch (path)
            {
                case "/api/bad":
                    await TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!");
                    break;
                case "/api/cut":
                    await TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-part");
                    s.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
                    break;
                case "/api/slow":
                    await Task.Delay(3000, TestContext.Current.CancellationToken);
                    await TestUpstream.OkAsync(r, s);
                    break;
                default:
                    await TestUpstream.OkAsync(r, s);
                    break;
            }
        });
        using var closed = ClosedPort.Any();
        string behaviors = RepoPaths.TestModule("behaviors");
        string config = $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": {
            "backend": { "endpoints": ["{{upstream.Endpoint}}"], "requestTimeoutMs": 300 },
            "gone": { "endpoints": ["127.0.0.1:{{closed.Port}}"] }
          },
          "routes": [
            { "name": "local", "match": { "pathPrefix": "/local" }, "cluster": "backend", "plugins": ["local"] },
            { "name": "trap", "match": { "pathPrefix": "/trap" }, "cluster": "backend", "plugins": ["trap"] },
            { "name": "close", "match": { "pathPrefix": "/close" }, "cluster": "backend", "plugins": ["close"] },
            { "name": "gone", "match": { "pathPrefix": "/gone" }, "cluster": "gone" },
            { "name": "api", "match": { "pathPrefix": "/api/" }, "cluster": "backend" }
          ],
          "plugins": {
            "local": { "module": "{{behaviors}}", "configuration": "local", "limits": { "cpuMillisecondsPerCall": 1000 } },
            "trap": { "module": "{{behaviors}}", "configuration": "trap_headers", "failurePolicy": "closed", "limits": { "cpuMillisecondsPerCall": 1000 } },
            "close": { "module": "{{behaviors}}", "configuration": "close", "limits": { "cpuMillisecondsPerCall": 1000 } }
          }
        }
        """;
        await using var gateway = await GatewayProcess.StartAsync(config);

        // Each on a connection of its own: most of these end the connection.
        (string Request, int Status)[] exchanges =
        [
            (RawClient.Get("/api/ok"), 200),
            (RawClient.Get("/nowhere"), 404),
            (RawClient.Get("/local"), 401),
            (RawClient.Get("/trap"), 500),
            (RawClient.Get("/gone"), 502),
            (RawClient.Get("/api/bad"), 502),
            (RawClient.Get("/api/slow"), 504),
            ("GET /api/ok HTTP/1.1\r\nhost: a.test\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", 400),
            ("POST /api/ok HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 400),
        ];
        foreach ((string request, int status) in exchanges)
        {
            using var client = new RawClient(gateway.Port);
            await client.SendAsync(request);
            Assert.Equal(status, (await client.ReadResponseAsync())!.Status);
        }
        using (var truncated = new RawClient(gateway.Port))
        {
            // The response started: the client gets the head and part of the body, then the connection ends.
            await truncated.SendAsync(RawClient.Get("/api/cut"));
            Assert.True(await truncated.IsClosedAsync());
        }
        using (var reset = new RawClient(gateway.Port))
        {
            // A plugin closed the stream: the client sees the connection end, the request counts as a 500.
            await reset.SendAsync(RawClient.Get("/close"));
            Assert.True(await reset.IsClosedAsync());
        }
        using (var gone = new RawClient(gateway.Port))
        {
            // The client leaves in the middle of its body: nobody to answer, the request still ends once.
            await gone.SendAsync("POST /api/ok HTTP/1.1\r\nhost: a.test\r\ncontent-length: 10\r\n\r\nabc");
        }
        int total = exchanges.Length + 3;

        List<JsonNode> lines = await WaitForAccessLinesAsync(gateway, total);
        int[] statuses = [.. lines.Select(l => (int)l["status"]!).Order()];
        Assert.Equal([200, 200, 400, 400, 400, 401, 404, 500, 500, 502, 502, 504], statuses);
        Assert.Equal(["failed", "local_reply", "reset"], lines.Select(l => (string)l["plugins"]!).Where(p => p != "none").Order());
        string metrics = await gateway.AdminGetAsync("/metrics");
        long counted = metrics.Split('\n')
            .Where(l => l.StartsWith("gateway_requests_total{", StringComparison.Ordinal))
            .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(total, counted);
        // One error line per failure: the connect refusal retried once is counted, but logged only when it ends the exchange.
        Assert.Equal(4, gateway.LogEntries("\"upstream_error\"").Count);
        Assert.Single(gateway.LogEntries("\"no_route\""));
        Assert.Single(gateway.LogEntries("\"plugin_failed\""));
        Assert.Single(gateway.LogEntries("\"request_rejected\""));
        Assert.Equal(2, gateway.LogEntries("\"client_body_error\"").Count);
    }

    private static async Task<List<JsonNode>> WaitForAccessLinesAsync(GatewayProcess gateway, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            List<JsonNode> lines = [.. gateway.LogEntries("\"type\":\"access\"")];
            if (lines.Count >= count)
            {
                // A moment longer: a second line for the same request would come right after the first.
                await Task.Delay(200, TestContext.Current.CancellationToken);
                lines = [.. gateway.LogEntries("\"type\":\"access\"")];
                Assert.Equal(count, lines.Count);
                return lines;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{lines.Count} access lines, expected {count}:\n{gateway.Output}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
