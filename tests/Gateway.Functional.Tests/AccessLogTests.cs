using System.Diagnostics;
using System.Text.Json.Nodes;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>One JSON access log line per request, on by default, off by config, never slowing requests down.</summary>
public sealed class AccessLogTests
{
    private static string Config(string upstream, string extra = "") => TestConfig.Proxy(
        TestConfig.Quote(upstream), workers: 1,
        routes: """{ "name": "api", "match": { "pathPrefix": "/api/" }, "cluster": "backend" }""",
        extra: extra);

    [Fact]
    public async Task ProxiedAndLocalRequests_OneLineEach_WithWhatHappened()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST //api/%78 HTTP/1.1\r\nhost: a.test\r\ncontent-length: 3\r\n\r\nabc");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        await client.SendAsync(RawClient.Get("/nowhere"));
        ClientResponse notFound = (await client.ReadResponseAsync())!;
        Assert.Equal(404, notFound.Status);

        IReadOnlyList<JsonNode> lines = await WaitForAccessLinesAsync(gateway, 2);
        JsonNode proxied = lines[0];
        Assert.Equal("public", (string?)proxied["listener"]);
        Assert.Equal("api", (string?)proxied["route"]);
        Assert.Equal("POST", (string?)proxied["method"]);
        Assert.Equal("/api/x", (string?)proxied["path"]);
        Assert.Equal(200, (int)proxied["status"]!);
        Assert.Equal(3, (long)proxied["requestBytes"]!);
        Assert.Equal(5, (long)proxied["responseBytes"]!); // "hello"
        Assert.True((long)proxied["durationUs"]! > 0);
        Assert.Equal(upstream.Endpoint, (string?)proxied["upstream"]);
        Assert.Equal("none", (string?)proxied["plugins"]);
        Assert.Equal(Assert.Single(upstream.Requests).Header("x-request-id"), (string?)proxied["requestId"]);
        Assert.StartsWith("127.0.0.1:", (string?)proxied["client"], StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - DateTime.Parse((string)proxied["time"]!, null, System.Globalization.DateTimeStyles.RoundtripKind) < TimeSpan.FromMinutes(1));

        JsonNode local = lines[1];
        Assert.Null(local["route"]);
        Assert.Equal(404, (int)local["status"]!);
        Assert.Null(local["upstream"]);
        Assert.Equal(0, (long)local["requestBytes"]!);
        // The gateway's own answer counts as what the client received, as a proxied body does.
        Assert.True(notFound.Body.Length > 0);
        Assert.Equal(notFound.Body.Length, (long)local["responseBytes"]!);
    }

    [Fact]
    public async Task PluginLocalReplyAndGatewayErrors_ResponseBytesAreTheBodiesSent()
    {
        await using var upstream = new TestUpstream();
        // A cluster nobody listens on: its requests end in the gateway's own 502.
        using var closed = ClosedPort.Any();
        string behaviors = RepoPaths.TestModule("behaviors");
        string config = $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": {
            "backend": { "endpoints": ["{{upstream.Endpoint}}"] },
            "gone": { "endpoints": ["127.0.0.1:{{closed.Port}}"] }
          },
          "routes": [
            { "name": "local", "match": { "pathPrefix": "/local" }, "cluster": "backend", "plugins": ["local"] },
            { "name": "gone", "match": { "pathPrefix": "/gone" }, "cluster": "gone" }
          ],
          "plugins": { "local": { "module": "{{behaviors}}", "configuration": "local", "limits": { "cpuMillisecondsPerCall": 1000 } } }
        }
        """;
        await using var gateway = await GatewayProcess.StartAsync(config);
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/local"));
        ClientResponse reply = (await client.ReadResponseAsync())!;
        Assert.Equal(401, reply.Status);
        await client.SendAsync(RawClient.Get("/gone"));
        ClientResponse badGateway = (await client.ReadResponseAsync())!;
        Assert.Equal(502, badGateway.Status);
        await client.SendAsync("HEAD /gone HTTP/1.1\r\nhost: a.test\r\n\r\n");
        Assert.Equal(502, (await client.ReadResponseAsync(headOnly: true))!.Status);

        IReadOnlyList<JsonNode> lines = await WaitForAccessLinesAsync(gateway, 3);
        Assert.Equal("local_reply", (string?)lines[0]["plugins"]);
        Assert.Equal("go away"u8.Length, reply.Body.Length);
        Assert.Equal(reply.Body.Length, (long)lines[0]["responseBytes"]!);
        Assert.True(badGateway.Body.Length > 0);
        Assert.Equal(badGateway.Body.Length, (long)lines[1]["responseBytes"]!);
        // A HEAD answer carries no body, whatever length its head states.
        Assert.Equal(0, (long)lines[2]["responseBytes"]!);
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task ResponseBodyRewrittenByAPlugin_ResponseBytesAreWhatTheClientGot()
    {
        await using var upstream = new TestUpstream();
        string behaviors = RepoPaths.TestModule("behaviors");
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint)
            .Replace("\"cluster\": \"backend\" }", "\"cluster\": \"backend\", \"plugins\": [\"body\"] }", StringComparison.Ordinal)
            .Replace("\"routes\"", $$$"""
            "plugins": { "body": { "module": "{{{behaviors}}}", "configuration": "body", "limits": { "cpuMillisecondsPerCall": 1000 } } },
            "routes"
            """, StringComparison.Ordinal));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/api/x"));
        ClientResponse response = (await client.ReadResponseAsync())!;
        // The upstream sent "hello"; the plugin replaced it, and the line counts the replacement the client received.
        Assert.Equal("replaced response", response.BodyText);
        Assert.Equal(response.Body.Length, (long)(await WaitForAccessLinesAsync(gateway, 1))[0]["responseBytes"]!);
    }

    [Fact]
    public async Task RejectedHead_LoggedWithItsStatus()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("GET /api/x HTTP/1.1\r\nhost: a.test\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n");
        ClientResponse rejected = (await client.ReadResponseAsync())!;
        Assert.Equal(400, rejected.Status);
        JsonNode line = (await WaitForAccessLinesAsync(gateway, 1))[0];
        Assert.Equal(400, (int)line["status"]!);
        Assert.Equal(rejected.Body.Length, (long)line["responseBytes"]!);
    }

    [Fact]
    public async Task RejectedHeadAfterAProxiedRequest_DoesNotReportThatRequestsBytes()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST /api/x HTTP/1.1\r\nhost: a.test\r\ncontent-length: 3\r\n\r\nabc");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        await client.SendAsync("GET /api/x HTTP/1.1\r\nhost: a.test\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n");
        ClientResponse rejected = (await client.ReadResponseAsync())!;
        Assert.Equal(400, rejected.Status);
        IReadOnlyList<JsonNode> lines = await WaitForAccessLinesAsync(gateway, 2);
        Assert.Equal(0, (long)lines[1]["requestBytes"]!);
        Assert.Equal(rejected.Body.Length, (long)lines[1]["responseBytes"]!);
    }

    [Fact]
    public async Task Disabled_NoLines()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, extra: """, "accessLog": { "enabled": false }"""));
        using var client = new RawClient(gateway.Port);
        for (int i = 0; i < 5; i++)
        {
            await client.SendAsync(RawClient.Get("/api/x"));
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        }
        Assert.Contains("gateway_access_log_lines_total{outcome=\"written\"} 0", await gateway.AdminGetAsync("/metrics"), StringComparison.Ordinal);
        Assert.Empty(AccessLines(gateway));
    }

    [Fact]
    public async Task StalledLogReader_LinesDroppedAndCounted_RequestsNotSlowed()
    {
        // Declared before the gateway, so it is deleted after the gateway has exited.
        using var folder = new TempFolder("gateway-fifo-");
        string fifo = folder.PathOf("access.log");
        var (made, mkfifoOutput) = await CommandRun.RunAsync("mkfifo", [fifo]);
        Assert.True(made == 0, mkfifoOutput);
        // A reader that never reads: the pipe fills (64 KiB) and the writer stalls. Opened for reading and writing, which
        // on Linux returns at once (fifo(7)), where a read-only open waits for a writer: made before the gateway, it needs
        // no task of its own, and a gateway that fails to start leaves no open waiting for it.
        await using var reader = new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite);
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(
            upstream.Endpoint, extra: $$""", "accessLog": { "file": "{{fifo}}", "queueCapacity": 16 }"""));
        using var client = new RawClient(gateway.Port);
        string longPath = "/api/" + new string('x', 2000);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 200; i++)
        {
            await client.SendAsync(RawClient.Get(longPath));
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"200 requests took {watch.Elapsed}");
        string metrics = await gateway.AdminGetAsync("/metrics");
        long dropped = long.Parse(metrics.Split('\n').Single(l => l.StartsWith("gateway_access_log_lines_total{outcome=\"dropped\"}", StringComparison.Ordinal)).Split(' ')[1]);
        Assert.True(dropped > 0, metrics);
    }

    private static List<JsonNode> AccessLines(GatewayProcess gateway) =>
        [.. gateway.LogEntries("\"type\":\"access\"")];

    private static async Task<IReadOnlyList<JsonNode>> WaitForAccessLinesAsync(GatewayProcess gateway, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            List<JsonNode> lines = AccessLines(gateway);
            if (lines.Count >= count)
            {
                Assert.Equal(count, lines.Count);
                return lines;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{lines.Count} access lines, expected {count}:\n{gateway.Output}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
