using System.Net;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>Hot reload of the mounted config: valid changes apply without a restart, invalid ones are refused.</summary>
public sealed class ReloadTests
{
    private static string Routes(params string[] prefixes) =>
        string.Join(", ", prefixes.Select(p => $$"""{ "name": "r{{p.Trim('/')}}", "match": { "pathPrefix": "{{p}}" }, "cluster": "backend" }"""));

    [Fact]
    public async Task RouteAdded_NewRequestsSeeItWithoutRestart()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: Routes("/a")));
        using var client = new RawClient(gateway.Port);
        Assert.Equal(404, await StatusAsync(client, "/b"));
        await File.WriteAllTextAsync(gateway.ConfigPath, TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: Routes("/a", "/b")), TestContext.Current.CancellationToken);
        Assert.True(await EventuallyAsync(async () => await StatusAsync(client, "/b") == 200), "the added route never served");
        Assert.Contains("gateway_config_reloads_total{result=\"applied\"} 1", await gateway.AdminGetAsync("/metrics"));
    }

    [Fact]
    public async Task InvalidChange_RefusedLoggedAndOldConfigKeepsServing()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: Routes("/a")));
        await File.WriteAllTextAsync(gateway.ConfigPath, TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: Routes("/a").Replace("backend", "missing", StringComparison.Ordinal)), TestContext.Current.CancellationToken);
        Assert.True(await EventuallyAsync(async () =>
            (await gateway.AdminGetAsync("/metrics")).Contains("gateway_config_reloads_total{result=\"refused\"} 1", StringComparison.Ordinal)), "no refused reload counted");
        // The log is read asynchronously: the refusal's line may arrive a moment after the counter moved.
        Assert.True(await EventuallyAsync(() => Task.FromResult(gateway.Output.Contains("routes[0].cluster", StringComparison.Ordinal))), "the refusal was not logged");
        using var client = new RawClient(gateway.Port);
        Assert.Equal(200, await StatusAsync(client, "/a"));
        Assert.Equal(HttpStatusCode.OK, await gateway.AdminStatusAsync("/readyz"));
    }

    [Fact]
    public async Task KubernetesSymlinkSwap_AppliesTheNewConfig()
    {
        await using var upstream = new TestUpstream();
        using var folder = new TempFolder("gateway-k8s-");
        string dir = folder.Path;
        Directory.CreateDirectory(Path.Combine(dir, "..2026_11_29_v1"));
        Directory.CreateSymbolicLink(Path.Combine(dir, "..data"), "..2026_11_29_v1");
        File.CreateSymbolicLink(Path.Combine(dir, "gateway.json"), "..data/gateway.json");
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: Routes("/a")), directory: dir);
        using var client = new RawClient(gateway.Port);
        Assert.Equal(404, await StatusAsync(client, "/b"));

        // What the kubelet does: write a new timestamped folder, then atomically repoint ..data at it.
        string v2 = Path.Combine(dir, "..2026_11_29_v2");
        Directory.CreateDirectory(v2);
        await File.WriteAllTextAsync(Path.Combine(v2, "gateway.json"), TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: Routes("/b")), TestContext.Current.CancellationToken);
        Directory.CreateSymbolicLink(Path.Combine(dir, "..data_tmp"), "..2026_11_29_v2");
        var (renamed, renameOutput) = await CommandRun.RunAsync("mv", ["-T", Path.Combine(dir, "..data_tmp"), Path.Combine(dir, "..data")]);
        Assert.True(renamed == 0, renameOutput);

        Assert.True(await EventuallyAsync(async () => await StatusAsync(client, "/b") == 200), "the swapped config never applied");
        Assert.Equal(404, await StatusAsync(client, "/a"));
    }

    [Fact]
    public async Task PluginConfigChanged_NewLimitApplies()
    {
        await using var upstream = new TestUpstream();
        string wasm = Path.Combine(RepoPaths.PluginsDir, "rate_limit.wasm");
        Assert.True(File.Exists(wasm), $"{wasm} is missing: run `make plugins`");
        string Config(int limit) => TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint),
            routes: """{ "name": "api", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["limit"] }""",
            extra: $$""", "plugins": { "limit": { "module": "{{wasm}}", "configuration": { "mode": "local", "key": { "source": "header", "name": "x-client" }, "limits": [ { "name": "m", "limit": {{limit}}, "windowSeconds": 600 } ] }, "limits": { "cpuMillisecondsPerCall": 1000 } } }""");
        await using var gateway = await GatewayProcess.StartAsync(Config(1));
        using var client = new RawClient(gateway.Port);
        Assert.Equal(200, await StatusAsync(client, "/", "x-client: a\r\n"));
        Assert.Equal(429, await StatusAsync(client, "/", "x-client: a\r\n"));

        await File.WriteAllTextAsync(gateway.ConfigPath, Config(1000), TestContext.Current.CancellationToken);
        Assert.True(await EventuallyAsync(async () => await StatusAsync(client, "/", "x-client: a\r\n") == 200), "the raised limit never applied");
    }

    [Fact]
    public async Task RouteChangeOnly_RateLimitCountsSurvive()
    {
        await using var upstream = new TestUpstream();
        string wasm = Path.Combine(RepoPaths.PluginsDir, "rate_limit.wasm");
        Assert.True(File.Exists(wasm), $"{wasm} is missing: run `make plugins`");
        string Config(string routes) => TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint),
            workers: 1,
            routes: routes,
            extra: $$""", "plugins": { "limit": { "module": "{{wasm}}", "configuration": { "mode": "local", "key": { "source": "header", "name": "x-client" }, "limits": [ { "name": "m", "limit": 2, "windowSeconds": 600 } ] }, "limits": { "cpuMillisecondsPerCall": 1000 } } }""");
        const string Api = """{ "name": "api", "match": { "pathPrefix": "/api/" }, "cluster": "backend", "plugins": ["limit"] }""";
        await using var gateway = await GatewayProcess.StartAsync(Config(Api));
        using var client = new RawClient(gateway.Port);
        Assert.Equal(200, await StatusAsync(client, "/api/a", "x-client: a\r\n"));

        // Only routes change: the loaded plugins, and the count they keep, carry over.
        await File.WriteAllTextAsync(gateway.ConfigPath, Config(Api + ", " + Routes("/other")), TestContext.Current.CancellationToken);
        Assert.True(await EventuallyAsync(async () => await StatusAsync(client, "/other") == 200), "the reload never applied");
        Assert.Equal(200, await StatusAsync(client, "/api/a", "x-client: a\r\n"));
        Assert.Equal(429, await StatusAsync(client, "/api/a", "x-client: a\r\n"));
    }

    [Fact]
    public async Task OnePluginChanged_TheOtherKeepsItsVmAndState()
    {
        await using var upstream = new TestUpstream();
        string behaviors = RepoPaths.TestModule("behaviors");
        // Mode "rebuild" counts requests in a guest global: the count lives in the VM's memory and nowhere else.
        string Counter(string policy) =>
            $$"""{ "module": "{{behaviors}}", "configuration": "rebuild", "failurePolicy": "{{policy}}", "limits": { "cpuMillisecondsPerCall": 1000 } }""";
        string Config(string changedPolicy) => TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint),
            workers: 1,
            routes: """
                { "name": "kept", "match": { "pathPrefix": "/kept/" }, "cluster": "backend", "plugins": ["kept"] },
                { "name": "changed", "match": { "pathPrefix": "/changed/" }, "cluster": "backend", "plugins": ["changed"] }
                """,
            extra: $$""", "plugins": { "kept": {{Counter("closed")}}, "changed": {{Counter(changedPolicy)}} }""");
        await using var gateway = await GatewayProcess.StartAsync(Config("closed"));
        using var client = new RawClient(gateway.Port);
        Assert.Equal("1", await CountSeenUpstreamAsync(client, upstream, "/kept/a"));
        Assert.Equal("2", await CountSeenUpstreamAsync(client, upstream, "/kept/a"));
        Assert.Equal("1", await CountSeenUpstreamAsync(client, upstream, "/changed/a"));
        Assert.Equal("2", await CountSeenUpstreamAsync(client, upstream, "/changed/a"));

        // Only the second plugin's options change: it gets a new VM whose count starts over; the first keeps its VM.
        await File.WriteAllTextAsync(gateway.ConfigPath, Config("open"), TestContext.Current.CancellationToken);
        Assert.True(await EventuallyAsync(() => Task.FromResult(gateway.Output.Contains("\"reload_applied\"", StringComparison.Ordinal))), "the reload never applied");
        Assert.Contains("1 plugin VM groups rebuilt", gateway.Output);
        Assert.Equal("1", await CountSeenUpstreamAsync(client, upstream, "/changed/a"));
        Assert.Equal("3", await CountSeenUpstreamAsync(client, upstream, "/kept/a"));
    }

    [Fact]
    public async Task ModuleFileReplaced_PluginRebuiltWithoutAConfigChange()
    {
        await using var upstream = new TestUpstream();
        using var folder = new TempFolder("gateway-module-");
        string dir = folder.Path;
        string module = Path.Combine(dir, "plugin.wasm");
        File.Copy(Path.Combine(RepoPaths.PluginsDir, "passthrough.wasm"), module);
        string config = TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint),
            routes: """{ "name": "api", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["p"] }""",
            extra: """, "plugins": { "p": { "module": "plugin.wasm", "limits": { "cpuMillisecondsPerCall": 1000 } } }""");
        await using var gateway = await GatewayProcess.StartAsync(config, directory: dir);
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/"));
        Assert.Null((await client.ReadResponseAsync())!.Header("x-gateway-response"));

        // Replaced the way a volume update does it: the new bytes appear at the path in one rename.
        string staged = Path.Combine(dir, ".plugin.wasm.new");
        File.Copy(Path.Combine(RepoPaths.PluginsDir, "add_header.wasm"), staged);
        File.Move(staged, module, overwrite: true);
        Assert.True(await EventuallyAsync(async () =>
        {
            await client.SendAsync(RawClient.Get("/"));
            return (await client.ReadResponseAsync())!.Header("x-gateway-response") == "add_header";
        }), "the replaced module never served");
    }

    [Fact]
    public async Task InFlightRequest_FinishesOnTheSnapshotItStartedWith()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            if (r.RequestLine.Contains("/a/slow", StringComparison.Ordinal))
            {
                arrived.TrySetResult();
                await release.Task;
            }
            await TestUpstream.OkAsync(r, s);
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: Routes("/a")));
        using var slow = new RawClient(gateway.Port);
        await slow.SendAsync(RawClient.Get("/a/slow"));
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(gateway.ConfigPath, TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), routes: Routes("/b")), TestContext.Current.CancellationToken);
        using var probe = new RawClient(gateway.Port);
        Assert.True(await EventuallyAsync(async () => await StatusAsync(probe, "/b") == 200), "reload never applied");
        release.SetResult();
        Assert.Equal(200, (await slow.ReadResponseAsync())!.Status);
        Assert.Equal(404, await StatusAsync(probe, "/a"));
    }

    private static async Task<string?> CountSeenUpstreamAsync(RawClient client, TestUpstream upstream, string path)
    {
        upstream.Requests.Clear();
        Assert.Equal(200, await StatusAsync(client, path));
        Assert.True(upstream.Requests.TryDequeue(out var received));
        return received.Header("x-count");
    }

    private static async Task<int> StatusAsync(RawClient client, string path, string extra = "")
    {
        await client.SendAsync(RawClient.Get(path, extra: extra));
        return (await client.ReadResponseAsync())!.Status;
    }

    private static Task<bool> EventuallyAsync(Func<Task<bool>> condition) =>
        Eventually.HoldsAsync(condition, TestContext.Current.CancellationToken);
}
