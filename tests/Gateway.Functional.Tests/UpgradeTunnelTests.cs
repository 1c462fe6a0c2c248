using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>
/// Upgrade requests: a 101 from the upstream turns the connection pair into a tunnel (a real WebSocket echo runs
/// through it); any other answer is an ordinary response; a switch nobody asked for is a 502.
/// </summary>
public sealed class UpgradeTunnelTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A WebSocket server upstream (RFC 6455 handshake, then echo of every message).</summary>
    private static async Task EchoWebSocketAsync(ReceivedRequest request, NetworkStream stream)
    {
        string key = request.Header("sec-websocket-key")!;
        string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await TestUpstream.WriteAsync(stream, $"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n");
        using WebSocket socket = WebSocket.CreateFromStream(stream, isServer: true, subProtocol: null, keepAliveInterval: TimeSpan.Zero);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            WebSocketReceiveResult result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                return;
            }
            await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
        }
    }

    [Fact]
    public async Task WebSocket_EchoesThroughTheTunnel_CountedInMetrics()
    {
        await using var upstream = new TestUpstream(EchoWebSocketAsync);
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Port}/chat"), Ct);
        var buffer = new byte[128 * 1024];
        for (int i = 0; i < 20; i++)
        {
            byte[] message = Encoding.UTF8.GetBytes($"message {i} " + new string('x', i * 3000));
            await AssertEchoedAsync(client, message, WebSocketMessageType.Text, buffer);
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Ct);
        Assert.Equal(WebSocketState.Closed, client.State);

        ReceivedRequest handshake = Assert.Single(upstream.Requests);
        Assert.Equal("websocket", handshake.Header("upgrade"));
        Assert.Equal("upgrade", handshake.Header("connection"));
        Assert.Equal("GET /chat HTTP/1.1", handshake.RequestLine);
        await EventuallyAsync(async () =>
        {
            string metrics = await gateway.AdminGetAsync("/metrics");
            return metrics.Contains("gateway_tunnels_opened_total 1\n", StringComparison.Ordinal)
                && metrics.Contains("gateway_tunnels_active 0\n", StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task UpgradeAnsweredWith200_OrdinaryResponse_NextBytesAreANewRequest()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/ws", extra: "connection: upgrade\r\nupgrade: websocket\r\n") + RawClient.Get("/second"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(["GET /ws HTTP/1.1", "GET /second HTTP/1.1"], upstream.Requests.Select(r => r.RequestLine));
    }

    [Fact]
    public async Task SwitchToAProtocolNotOffered_502()
    {
        await using var upstream = new TestUpstream((request, stream) =>
            TestUpstream.WriteAsync(stream, "HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\nconnection: upgrade\r\n\r\n"));
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/ws", extra: "connection: upgrade\r\nupgrade: websocket\r\n"));
        Assert.Equal(502, (await client.ReadResponseAsync())!.Status);
    }

    [Fact]
    public async Task UnsolicitedSwitch_502()
    {
        await using var upstream = new TestUpstream((request, stream) =>
            TestUpstream.WriteAsync(stream, "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n"));
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/plain"));
        Assert.Equal(502, (await client.ReadResponseAsync())!.Status);
    }

    [Fact]
    public async Task RouteWithoutThatProtocol_UpgradeStripped_PlainRequest()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint), workers: 1,
            routes: """{ "name": "all", "match": { "pathPrefix": "/" }, "cluster": "backend", "upgrades": [] }"""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/ws", extra: "connection: upgrade\r\nupgrade: websocket\r\n"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        ReceivedRequest received = Assert.Single(upstream.Requests);
        Assert.Null(received.Header("upgrade"));
        Assert.Null(received.Header("connection"));
    }

    [Fact]
    public async Task IdleTunnel_ClosedAfterTimeout()
    {
        await using var upstream = new TestUpstream(EchoWebSocketAsync);
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint), workers: 1, limits: "\"tunnelIdleTimeoutMs\": 500"));
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Port}/idle"), Ct);
        await client.SendAsync("ping"u8.ToArray(), WebSocketMessageType.Text, true, Ct);
        var buffer = new byte[16];
        Assert.Equal(4, (await client.ReceiveAsync(buffer, Ct)).Count);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // Nothing moves: the gateway closes the connection; the client sees it end without a close frame.
        await Assert.ThrowsAnyAsync<WebSocketException>(async () => await client.ReceiveAsync(buffer, Ct));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5));
        await EventuallyAsync(async () => (await gateway.AdminGetAsync("/metrics")).Contains("gateway_tunnels_closed_total{end=\"idle_timeout\"} 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecureWebSocket_HeaderPhasesRun_BodyPhasesNeverSeeTunnelledBytes_AccessLogCountsThem()
    {
        // Declared before the gateway, so it is deleted after the gateway has exited.
        using var folder = new TempFolder("gateway-wss-");
        using var ca = TestCertificates.CreateCa();
        var (cert, key) = TestCertificates.WritePem(folder.Path, "wss", TestCertificates.IssueLeaf(ca, ["wss.test"]), ca);
        string addHeader = Path.Combine(RepoPaths.PluginsDir, "add_header.wasm");
        string behaviors = RepoPaths.TestModule("behaviors");
        Assert.True(File.Exists(addHeader) && File.Exists(behaviors), "plugins missing: run `make plugins`");
        await using var upstream = new TestUpstream(EchoWebSocketAsync);
        // add_header marks both heads; behaviors' "body" mode holds every body to its end and rewrites it, so a
        // tunnelled byte shown to a body callback would never come back as sent.
        string config = TestConfig.Proxy(
                TestConfig.Quote(upstream.Endpoint), workers: 1,
                routes: """{ "name": "chat", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["add", "body"] }""",
                extra: $$""", "plugins": { "add": { "module": "{{addHeader}}" }, "body": { "module": "{{behaviors}}", "configuration": "body", "limits": { "cpuMillisecondsPerCall": 1000 } } }""")
            .Replace("\"port\": 0 }]", $"\"port\": 0, \"tls\": {{ \"certFile\": \"{cert}\", \"keyFile\": \"{key}\" }} }}]", StringComparison.Ordinal);
        await using var gateway = await GatewayProcess.StartAsync(config);
        using var client = new ClientWebSocket();
        client.Options.CollectHttpResponseDetails = true;
        client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.Subject == "CN=wss.test";
        await client.ConnectAsync(new Uri($"wss://127.0.0.1:{gateway.Port}/chat"), Ct);
        Assert.Equal("add_header", Assert.Single(client.HttpResponseHeaders!["x-gateway-response"]));
        var buffer = new byte[64 * 1024];
        for (int i = 0; i < 5; i++)
        {
            byte[] message = Encoding.UTF8.GetBytes($"secure {i} " + new string('y', i * 5000));
            await AssertEchoedAsync(client, message, WebSocketMessageType.Binary, buffer);
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Ct);

        ReceivedRequest handshake = Assert.Single(upstream.Requests);
        Assert.Equal("add_header", handshake.Header("x-gateway-request"));
        Assert.Equal("https", handshake.Header("x-forwarded-proto"));
        JsonNode line = Assert.Single(await gateway.WaitForLogAsync("\"type\":\"access\""));
        Assert.Equal(101, (int)line["status"]!);
        // What the tunnel relayed each way: at least the messages, framed and (client to server) masked.
        Assert.True((long)line["requestBytes"]! > 5 * 10 + 10 * 5000, line.ToJsonString());
        Assert.True((long)line["responseBytes"]! > 5 * 10 + 10 * 5000, line.ToJsonString());
    }

    /// <summary>
    /// Sends <paramref name="message"/> whole and asserts the same bytes come back: the echo is read into
    /// <paramref name="buffer"/> until the message ends, since a large one arrives over several reads.
    /// </summary>
    private static async Task AssertEchoedAsync(ClientWebSocket client, byte[] message, WebSocketMessageType type, byte[] buffer)
    {
        await client.SendAsync(message, type, endOfMessage: true, Ct);
        int received = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await client.ReceiveAsync(new ArraySegment<byte>(buffer, received, buffer.Length - received), Ct);
            received += result.Count;
        }
        while (!result.EndOfMessage);
        Assert.Equal(message, buffer[..received]);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition) =>
        Assert.True(await Eventually.HoldsAsync(condition, Ct), "condition not met within 10 s");
}
