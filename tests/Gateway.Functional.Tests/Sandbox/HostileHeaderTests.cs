using Gateway.Testing;
using System.Diagnostics;
using static Gateway.Functional.Tests.Sandbox.HostileGateway;

namespace Gateway.Functional.Tests.Sandbox;

/// <summary>
/// The hostile plugin tries to escape through what the gateway writes on the wire: header lines, pseudo-headers,
/// local replies, http_call framing, bodies on bodiless responses, re-routing past another route's check. Each
/// attempt must fail and the gateway must keep serving.
/// </summary>
public sealed class HostileHeaderTests
{
    [Fact]
    public async Task RequestHeaderInjection_IsRefused_AndNothingExtraReachesTheUpstream()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "inject_request"), Route("h", "/hostile", "\"h\"")));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/hostile"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        // Every write answered BAD_ARGUMENT (2), and the request went out exactly as the client sent it.
        Assert.Equal("2,2,2,2,2,2,2,2,2,2,2,2", received.Header("x-inject-results"));
        Assert.Equal("GET /hostile HTTP/1.1", received.RequestLine);
        Assert.DoesNotContain("smuggled", received.Head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("upgrade", received.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(upstream.Requests);
        Assert.True(await MetricAsync(gateway, "gateway_plugin_refusals_total{plugin=\"h\",limit=\"header_syntax\"}") >= 12);
        await AssertStillServingAsync(gateway);
    }

    [Fact]
    public async Task ResponseHeaderInjection_AndBodilessStatuses_AreRefused()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "inject_response"), Route("h", "/hostile", "\"h\"")));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/hostile"));
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response!.Status);
        Assert.Equal("hello", response.BodyText);
        Assert.Equal("2,2,2,2,2,2", response.Header("x-inject-results"));
        Assert.Null(response.Header("set-cookie"));
        Assert.DoesNotContain("pwned", response.Head, StringComparison.Ordinal);
        // The connection is still in step: the next response is read as the next response.
        await client.SendAsync(RawClient.Get("/plain"));
        var next = await client.ReadResponseAsync();
        Assert.Equal(200, next!.Status);
        Assert.Equal("hello", next.BodyText);
    }

    [Fact]
    public async Task LocalReply_WithInjectedHeaderOr1xx_IsRefused_AndHeadGetsNoBody()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "local_reply"), Route("h", "/hostile", "\"h\"")));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/hostile"));
        var reply = await client.ReadResponseAsync();
        Assert.Equal(200, reply!.Status);
        Assert.Equal("2,2", reply.Header("x-tried"));
        Assert.Equal("local body", reply.BodyText);
        Assert.Null(reply.Header("set-cookie"));

        // HEAD: the length the body would have, and no body; the next response on the connection is read correctly.
        await client.SendAsync("HEAD /hostile HTTP/1.1\r\nhost: a.test\r\n\r\n" + RawClient.Get("/plain"));
        var head = await client.ReadResponseAsync(headOnly: true);
        Assert.Equal(200, head!.Status);
        Assert.Equal("10", head.Header("content-length"));
        var next = await client.ReadResponseAsync();
        Assert.Equal(200, next!.Status);
        Assert.Equal("hello", next.BodyText);
    }

    [Fact]
    public async Task HeadAndNotModified_KeepTheUpstreamLength_AndAStatusChangeCannotDesync()
    {
        await using var upstream = new TestUpstream(static (request, stream) =>
            request.RequestLine.StartsWith("HEAD", StringComparison.Ordinal)
                ? TestUpstream.WriteAsync(stream, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
                : request.RequestLine.Contains("/nm", StringComparison.Ordinal)
                    ? TestUpstream.WriteAsync(stream, "HTTP/1.1 304 Not Modified\r\ncontent-length: 7\r\n\r\n")
                    : TestUpstream.OkAsync(request, stream));
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "status_304"), Route("h", "/changed", "\"h\"")));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("HEAD /plain HTTP/1.1\r\nhost: a.test\r\n\r\n");
        var head = await client.ReadResponseAsync(headOnly: true);
        Assert.Equal("5", head!.Header("content-length"));
        await client.SendAsync(RawClient.Get("/plain/nm"));
        var notModified = await client.ReadResponseAsync();
        Assert.Equal(304, notModified!.Status);
        Assert.Equal("7", notModified.Header("content-length"));
        // A plugin turns the bodiless 304 into a 200: the gateway says the (empty) length, so the client never reads on.
        await client.SendAsync(RawClient.Get("/changed/nm"));
        var changed = await client.ReadResponseAsync();
        Assert.Equal(200, changed!.Status);
        Assert.Equal("0", changed.Header("content-length"));
        await client.SendAsync(RawClient.Get("/plain"));
        Assert.Equal("hello", (await client.ReadResponseAsync())!.BodyText);
    }

    [Fact]
    public async Task HttpCall_NeverForwardsThePluginsFramingOrHopByHopFields()
    {
        await using var upstream = new TestUpstream();
        await using var callout = new TestUpstream();
        string clusters = $$""", "callout": { "endpoints": ["{{callout.Endpoint}}"] }""";
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "http_call_framing"), Route("h", "/hostile", "\"h\""), clusters));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/hostile"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(callout.Requests.TryDequeue(out var call));
        Assert.Equal("POST /callout HTTP/1.1", call.RequestLine);
        Assert.Equal("5", call.Header("content-length"));
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(call.Body));
        Assert.Null(call.Header("transfer-encoding"));
        Assert.Null(call.Header("upgrade"));
        Assert.NotEqual("upgrade", call.Header("connection"));
        Assert.True(upstream.Requests.TryDequeue(out var forwarded));
        Assert.Equal("0", forwarded.Header("x-call-result"));
    }

    [Fact]
    public async Task ReRoutedRequest_RunsTheDestinationRoutesPlugins()
    {
        await using var upstream = new TestUpstream();
        await using var admin = new TestUpstream();
        string clusters = $$""", "admin": { "endpoints": ["{{admin.Endpoint}}"] }""";
        string plugins = Plugin("steer", "reroute") + ", " + Plugin("guard", "deny");
        string routes = Route("admin", "/admin/", "\"guard\"", "admin") + ", " + Route("public", "/public", "\"steer\"");
        await using var gateway = await StartAsync(Config(upstream.Endpoint, plugins, routes, clusters));
        using var client = new RawClient(gateway.Port);
        // The public route's plugin rewrites the path into the admin route: the admin route's check still runs.
        await client.SendAsync(RawClient.Get("/public"));
        var response = await client.ReadResponseAsync();
        Assert.Equal(403, response!.Status);
        Assert.Empty(admin.Requests);
        Assert.Empty(upstream.Requests);
        await AssertStillServingAsync(gateway);
    }

    [Fact]
    public async Task SlowImportsInALoop_EndNearTheBudget_AndTheNeighbourIsServed()
    {
        await using var upstream = new TestUpstream();
        string plugin = Plugin("cpu", "cpu_imports").Replace("\"cpuMillisecondsPerCall\": 200", "\"cpuMillisecondsPerCall\": 5", StringComparison.Ordinal);
        await using var gateway = await StartAsync(Config(upstream.Endpoint, plugin, Route("cpu", "/hostile", "\"cpu\"")));
        using var warm = new RawClient(gateway.Port);
        await warm.SendAsync(RawClient.Get("/hostile"));
        Assert.Equal(500, (await warm.ReadResponseAsync())!.Status);

        using var attacker = new RawClient(gateway.Port);
        using var neighbour = new RawClient(gateway.Port);
        var clock = Stopwatch.StartNew();
        await attacker.SendAsync(RawClient.Get("/hostile"));
        await neighbour.SendAsync(RawClient.Get("/plain"));
        var attack = attacker.ReadResponseAsync();
        var served = await neighbour.ReadResponseAsync();
        var neighbourTook = clock.Elapsed;
        Assert.Equal(500, (await attack)!.Status);
        Assert.Equal(200, served!.Status);
        // Budget 5 ms + the 50 ms wall-clock margin + one bounded import; generous for a loaded two-core machine.
        Assert.True(neighbourTook < TimeSpan.FromMilliseconds(400), $"the neighbour waited {neighbourTook.TotalMilliseconds:F0} ms");
        Assert.True(await MetricAsync(gateway, "gateway_plugin_deadline_exceeded_total{plugin=\"cpu\"}") >= 2);
        await AssertStillServingAsync(gateway);
    }
}
