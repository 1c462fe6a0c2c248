using System.Net;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task Sigterm_WithRequestsInFlight_AllCompleteThenExitZero()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int arrived = 0;
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            Interlocked.Increment(ref arrived);
            await release.Task;
            await TestUpstream.OkAsync(r, s);
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        var clients = new List<RawClient>();
        var responses = new List<Task<ClientResponse?>>();
        for (int i = 0; i < 100; i++)
        {
            var client = new RawClient(gateway.Port);
            clients.Add(client);
            await client.SendAsync(RawClient.Get($"/{i}"));
            responses.Add(client.ReadResponseAsync());
        }
        while (Volatile.Read(ref arrived) < 100)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        Task<int> exit = gateway.StopAsync();
        // Readiness turns off at once, while the requests are still held by the upstream.
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await gateway.AdminStatusAsync("/readyz"));
        Assert.False(exit.IsCompleted);
        release.SetResult();
        foreach (var response in responses)
        {
            var r = await response;
            Assert.Equal(200, r!.Status);
            Assert.True(r.Closes, "responses during drain carry connection: close");
        }
        Assert.Equal(0, await exit);
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Readyz_And_Healthz_AnswerWhileServing()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        Assert.Equal(HttpStatusCode.OK, await gateway.AdminStatusAsync("/healthz"));
        Assert.Equal(HttpStatusCode.OK, await gateway.AdminStatusAsync("/readyz"));
        using (var client = new RawClient(gateway.Port))
        {
            await client.SendAsync(RawClient.Get());
            await client.ReadResponseAsync();
            await client.SendAsync("GET / HTTP/1.1\r\nhost: a.test\r\nx: a\0b\r\n\r\n");
            Assert.Equal(400, (await client.ReadResponseAsync())!.Status);
        }
        string metrics = await gateway.AdminGetAsync("/metrics");
        Assert.Contains("gateway_requests_total{route=\"all\",status_class=\"2xx\"} 1", metrics);
        Assert.Contains("gateway_request_duration_seconds_bucket{route=\"all\",le=\"+Inf\"} 1", metrics);
        Assert.Contains("gateway_request_rejections_total{reason=", metrics);
        Assert.Contains("gateway_upstream_connections{cluster=\"backend\",state=\"open\"} 1", metrics);
        Assert.Contains("gateway_upstream_connections{cluster=\"backend\",state=\"idle\"} 1", metrics);
        // The runtime's figures: collections by generation, their pauses, allocation and the heap.
        Assert.Contains("gateway_gc_collections_total{generation=\"0\"} ", metrics);
        Assert.Contains("gateway_gc_collections_total{generation=\"2\"} ", metrics);
        Assert.Contains("# TYPE gateway_gc_pause_seconds_total counter\n", metrics);
        Assert.Matches(@"\ngateway_allocated_bytes_total [1-9][0-9]*\n", metrics);
        Assert.Matches(@"\ngateway_gc_heap_bytes [0-9]+\n", metrics);
        string config = await gateway.AdminGetAsync("/config");
        Assert.Contains("\"backend\"", config);
    }

    [Fact]
    public async Task EnvironmentOverride_ReplacesConfigValue()
    {
        await using var wrong = new TestUpstream((r, s) => TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nwrong"));
        await using var right = new TestUpstream((r, s) => TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nright"));
        await using var gateway = await GatewayProcess.StartAsync(
            TestConfig.Proxy(TestConfig.Quote(wrong.Endpoint)),
            environment: new Dictionary<string, string> { ["GATEWAY_CLUSTERS__BACKEND__ENDPOINTS__0"] = right.Endpoint });
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        Assert.Equal("right", (await client.ReadResponseAsync())!.BodyText);
    }

    [Fact]
    public async Task CheckConfig_ListsEveryProblemAndExitsNonZero()
    {
        using var folder = new TempFolder("gateway-check-");
        string path = folder.PathOf("bad.json");
        await File.WriteAllTextAsync(path, """
        {
          "workers": -1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 70000 }],
          "clusters": { "backend": { "endpoints": ["nocolon"] } },
          "routes": [ { "name": "r", "match": { "pathPrefix": "/" }, "cluster": "missing", "plugins": ["nope"] } ],
          "limits": { "maxBodyBytes": 0 }
        }
        """, TestContext.Current.CancellationToken);
        var (exit, output) = await RunGatewayAsync("--check-config", path);
        Assert.Equal(1, exit);
        // Every problem, named by its key path, not only the first one found.
        foreach (string key in new[] { "workers", "listeners[0].port", "clusters.backend.endpoints[0]", "routes[0].cluster", "routes[0].plugins[0]", "limits.maxBodyBytes" })
        {
            Assert.Contains(key, output);
        }

        string good = folder.PathOf("good.json");
        await File.WriteAllTextAsync(good, TestConfig.Proxy(TestConfig.Quote("127.0.0.1:1")), TestContext.Current.CancellationToken);
        var (okExit, okOutput) = await RunGatewayAsync("--check-config", good);
        Assert.True(okExit == 0, okOutput);
    }

    private static Task<(int Exit, string Output)> RunGatewayAsync(params string[] args) =>
        CommandRun.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "gateway.dll"), .. args]);
}
