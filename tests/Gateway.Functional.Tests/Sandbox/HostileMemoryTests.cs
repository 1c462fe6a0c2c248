using Gateway.Testing;
using System.IO.Compression;
using System.Text.RegularExpressions;
using static Gateway.Functional.Tests.Sandbox.HostileGateway;

namespace Gateway.Functional.Tests.Sandbox;

/// <summary>
/// The hostile plugin tries to make the host allocate without bound, read another plugin's state, and break the
/// metrics scrape; the randomized plugin calls every import with garbage. Each attempt is refused (and counted) and
/// the gateway keeps serving.
/// </summary>
public sealed class HostileMemoryTests
{
    private static async Task<ClientResponse> SendThroughAsync(GatewayProcess gateway, TestUpstream upstream, string path = "/hostile")
    {
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get(path));
        var response = await client.ReadResponseAsync();
        Assert.NotNull(response);
        return response;
    }

    [Theory]
    [InlineData("shared_flood", "sharedDataBytes", "shared_data", "15")]
    [InlineData("queue_flood", "sharedQueueBytes", "shared_queue", "16")]
    public async Task SharedStateFlood_StopsAtTheNamespaceBound(string mode, string key, string limit, string stored)
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", mode, $"\"{key}\": 1048576"), Route("h", "/hostile", "\"h\"")));
        Assert.Equal(200, (await SendThroughAsync(gateway, upstream)).Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal(stored, received.Header("x-flood-stored"));
        Assert.Equal("10", received.Header("x-flood-last"));
        Assert.Equal(1, await MetricAsync(gateway, $"gateway_plugin_refusals_total{{plugin=\"h\",limit=\"{limit}\"}}"));
        await AssertStillServingAsync(gateway);
    }

    [Fact]
    public async Task FdWriteAmplification_IsCutAtHostCallBytes()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "fd_write"), Route("h", "/hostile", "\"h\"")));
        Assert.Equal(200, (await SendThroughAsync(gateway, upstream)).Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        // 1024 iovecs naming the same MiB: one MiB is written (a short write), not a GiB.
        Assert.Equal("0", received.Header("x-fdwrite-result"));
        Assert.Equal("1048576", received.Header("x-fdwrite-written"));
        Assert.Equal(1, await MetricAsync(gateway, "gateway_plugin_refusals_total{plugin=\"h\",limit=\"host_call_bytes\"}"));
        await AssertStillServingAsync(gateway);
    }

    [Fact]
    public async Task UncompressBomb_IsRefused()
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(new byte[64 * 1024 * 1024]);
        }
        string bomb = Convert.ToBase64String(compressed.ToArray());
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "bomb " + bomb), Route("h", "/hostile", "\"h\"")));
        long before = gateway.ResidentBytes();
        Assert.Equal(200, (await SendThroughAsync(gateway, upstream)).Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("2", received.Header("x-bomb-result"));
        Assert.Equal("0", received.Header("x-bomb-bytes"));
        Assert.True(gateway.ResidentBytes() - before < 32L * 1024 * 1024, "the host inflated the bomb");
        Assert.Equal(1, await MetricAsync(gateway, "gateway_plugin_refusals_total{plugin=\"h\",limit=\"host_call_bytes\"}"));
        await AssertStillServingAsync(gateway);
    }

    [Fact]
    public async Task HeaderFlood_StopsAtMaxHeaderCount()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "header_flood"), Route("h", "/hostile", "\"h\""), limits: "\"maxHeaderCount\": 50"));
        Assert.Equal(200, (await SendThroughAsync(gateway, upstream)).Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("2", received.Header("x-flood-last"));
        Assert.True(int.Parse(received.Header("x-flood-added")!) < 50);
        Assert.True(await MetricAsync(gateway, "gateway_plugin_refusals_total{plugin=\"h\",limit=\"header_size\"}") >= 1);
    }

    [Fact]
    public async Task BodyGrowth_StopsAtMaxBodyBytes()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "body_grow"), Route("h", "/hostile", "\"h\""), limits: "\"maxBodyBytes\": 4194304"));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST /hostile HTTP/1.1\r\nhost: a.test\r\ncontent-length: 4\r\n\r\nbody");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("trimmed", System.Text.Encoding.ASCII.GetString(received.Body));
        Assert.Equal(1, await MetricAsync(gateway, "gateway_plugin_refusals_total{plugin=\"h\",limit=\"body_size\"}"));
    }

    [Fact]
    public async Task CalloutFlood_StopsAtHttpCallsInFlight()
    {
        await using var upstream = new TestUpstream();
        await using var callout = new TestUpstream();
        string clusters = $$""", "callout": { "endpoints": ["{{callout.Endpoint}}"] }""";
        await using var gateway = await StartAsync(Config(upstream.Endpoint, Plugin("h", "callout_flood", "\"httpCallsInFlight\": 8"), Route("h", "/hostile", "\"h\""), clusters));
        Assert.Equal(200, (await SendThroughAsync(gateway, upstream)).Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("8", received.Header("x-calls-started"));
        Assert.Equal("10", received.Header("x-calls-last"));
        await AssertStillServingAsync(gateway);
    }

    [Fact]
    public async Task AnotherPluginsQueueAndSharedData_CannotBeReadOrWritten()
    {
        await using var upstream = new TestUpstream();
        string plugins = Plugin("owner", "queue_owner") + ", " + Plugin("thief", "steal");
        string routes = Route("owner", "/owner", "\"owner\"") + ", " + Route("thief", "/hostile", "\"thief\"");
        await using var gateway = await StartAsync(Config(upstream.Endpoint, plugins, routes));
        Assert.Equal(200, (await SendThroughAsync(gateway, upstream)).Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("0", received.Header("x-stolen-items"));
        Assert.Equal("0", received.Header("x-planted-items"));
        Assert.Equal("1", received.Header("x-resolve-private"));
        Assert.Equal("1", received.Header("x-peek-token"));
    }

    [Fact]
    public async Task CollidingGuestMetrics_StillPassPromtool_AndSeriesAreCapped()
    {
        await using var upstream = new TestUpstream();
        string plugins = Plugin("p", "metrics_collide", "\"maxMetrics\": 64") + ", " + Plugin("p_a", "metrics_collide", "\"maxMetrics\": 64");
        await using var gateway = await StartAsync(Config(upstream.Endpoint, plugins, Route("p", "/p", "\"p\", \"p_a\"")));
        await AssertPromtoolAcceptsAsync(gateway);
        string metrics = await gateway.AdminGetAsync("/metrics");
        // "a.b", "a-b" and "a_b" are one family; "h_count" cannot shadow the summary "h".
        Assert.Single(Regex.Matches(metrics, "^# TYPE wasm_p_a_b ", RegexOptions.Multiline));
        Assert.Single(Regex.Matches(metrics, "^wasm_p_h_count ", RegexOptions.Multiline));
        Assert.True(Regex.Matches(metrics, "^wasm_p_m\\d+ ", RegexOptions.Multiline).Count <= 64);
        Assert.True(await MetricAsync(gateway, "gateway_plugin_refusals_total{plugin=\"p\",limit=\"metrics\"}") >= 1);
        await AssertStillServingAsync(gateway);
    }

    [Fact]
    public async Task RandomizedHostilePlugin_CallsEveryImportWithGarbage_AndTheGatewayKeepsServing()
    {
        const int Requests = 60;
        const int CallsPerRequest = 400;
        await using var upstream = new TestUpstream();
        string plugin = Plugin("fuzz", $"{CallsPerRequest} 20261205", module: Fuzz);
        await using var gateway = await StartAsync(Config(upstream.Endpoint, plugin, Route("fuzz", "/fuzz", "\"fuzz\"")));
        var statuses = new Dictionary<int, int>();
        for (int i = 0; i < Requests; i++)
        {
            using var client = new RawClient(gateway.Port);
            await client.SendAsync(RawClient.Get($"/fuzz/{i}"));
            var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(10));
            int status = response?.Status ?? 0; // 0: the plugin closed the stream
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.False(gateway.HasExited, $"the gateway exited after {i + 1} fuzz requests");
        }
        await AssertStillServingAsync(gateway);
        long survived = await MetricAsync(gateway, "wasm_fuzz_calls");
        string summary = $"randomized hostile plugin: the gateway survived {survived} import calls in {Requests} requests (statuses: {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))})";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(survived >= Requests * 10, summary);
        await AssertPromtoolAcceptsAsync(gateway);
    }
}
