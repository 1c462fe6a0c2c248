using System.Diagnostics;
using System.Net;
using Gateway.Testing;

namespace Gateway.Smoke.Tests;

/// <summary>
/// The smoke suite runs against the published Native AOT binary (make publish → artifacts/bin/gateway),
/// not the JIT build: start, proxy a request, readiness, --check-config on a bad file, SIGTERM drain.
/// </summary>
public sealed class AotBinaryTests
{
    public AotBinaryTests()
    {
        Assert.True(File.Exists(RepoPaths.AotBinary), $"{RepoPaths.AotBinary} is missing: run `make publish` first");
    }

    [Fact]
    public async Task Version_PrintsAndExitsZero()
    {
        var (exit, output) = await RunAsync("--version");
        Assert.Equal(0, exit);
        Assert.StartsWith("gateway ", output);
    }

    [Fact]
    public async Task Published_ProxiesAndReportsReady()
    {
        await using var upstream = new TestUpstream();
        var clock = Stopwatch.StartNew();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)), aot: true);
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/smoke"));
        var response = await client.ReadResponseAsync();
        TestContext.Current.SendDiagnosticMessage($"AOT gateway: start to first proxied response {clock.ElapsedMilliseconds} ms");
        Assert.Equal(200, response!.Status);
        Assert.Equal("hello", response.BodyText);
        Assert.Equal(HttpStatusCode.OK, await gateway.AdminStatusAsync("/readyz"));
        Assert.Contains("gateway_requests_total", await gateway.AdminGetAsync("/metrics"));
    }

    [Fact]
    public async Task CheckConfig_OnBadFile_ExitsNonZeroWithReasons()
    {
        using var folder = new TempFolder("gateway-smoke-");
        string path = folder.PathOf("bad.json");
        await File.WriteAllTextAsync(path, """{ "listeners": [{ "name": "x", "port": -5 }], "routes": [{ "name": "r", "cluster": "none" }] }""", TestContext.Current.CancellationToken);
        var (exit, output) = await RunAsync("--check-config", path);
        Assert.NotEqual(0, exit);
        Assert.Contains("listeners[0].port", output);
        Assert.Contains("routes[0].cluster", output);
    }

    [Fact]
    public async Task BinaryCopiedWithoutItsWasmLibrary_ExplainsAndExitsOne()
    {
        // The binary alone, without libwasmtime.so beside it, and a config with a plugin: a named fault, no crash.
        using var folder = new TempFolder("gateway-alone-");
        string binary = folder.PathOf("gateway");
        File.Copy(RepoPaths.AotBinary, binary);
        string config = folder.PathOf("gateway.json");
        string module = Path.Combine(RepoPaths.PluginsDir, "passthrough.wasm");
        await File.WriteAllTextAsync(config, $$"""
            { "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
              "clusters": { "up": { "endpoints": ["127.0.0.1:9"] } },
              "routes": [{ "name": "all", "match": { "pathPrefix": "/" }, "cluster": "up", "plugins": ["p"] }],
              "plugins": { "p": { "module": "{{module}}" } } }
            """, TestContext.Current.CancellationToken);
        foreach (string[] args in new[] { new[] { "--check-config", config }, ["--config", config] })
        {
            var (exit, output) = await CommandRun.RunAsync(binary, args);
            Assert.True(exit == 1, output);
            Assert.Contains("(libwasmtime.so) was not found beside the gateway binary", output);
            Assert.DoesNotContain("Unhandled exception", output);
        }
    }

    [Theory]
    [InlineData("listener")]
    [InlineData("admin")]
    public async Task PortAlreadyInUse_NamesThePortAndExitsOne(string taken)
    {
        // Another process holds the port: one line that names the config key and the endpoint, no stack trace.
        using var holder = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;
        using var folder = new TempFolder("gateway-port-");
        string config = folder.PathOf("gateway.json");
        await File.WriteAllTextAsync(config, $$"""
            { "listeners": [{ "name": "public", "address": "127.0.0.1", "port": {{(taken == "listener" ? port : 0)}} }],
              "admin": { "address": "127.0.0.1", "port": {{(taken == "admin" ? port : 0)}} },
              "clusters": { "up": { "endpoints": ["127.0.0.1:9"] } },
              "routes": [{ "name": "all", "match": { "pathPrefix": "/" }, "cluster": "up" }] }
            """, TestContext.Current.CancellationToken);
        var (exit, output) = await RunAsync("--config", config);
        Assert.True(exit == 1, output);
        string key = taken == "listener" ? "listeners[0] (public)" : "admin.port";
        Assert.Contains($"{key}: cannot listen on 127.0.0.1:{port}: address already in use", output);
        Assert.Contains("not starting", output);
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task DemoConfig_AsMakeDemoWritesIt_IsValid()
    {
        // scripts/demo.sh fills these placeholders; the demo must never ship a config the binary refuses.
        string template = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "demo", "gateway.json"), TestContext.Current.CancellationToken);
        string config = template.Replace("@UPSTREAM@", "127.0.0.1:18081").Replace("@PORT@", "18080").Replace("@ADMIN@", "19901")
            .Replace("@PLUGINS@", RepoPaths.PluginsDir).Replace("@REDIS@", "127.0.0.1:16379")
            .Replace("@PG_CONNECTION@", "Host=127.0.0.1;Port=15432;Database=gateway;Username=gateway");
        using var folder = new TempFolder("gateway-demo-");
        string passwordFile = folder.PathOf("pg-password");
        await File.WriteAllTextAsync(passwordFile, "demo", TestContext.Current.CancellationToken);
        config = config.Replace("@PG_PASSWORD_FILE@", passwordFile);
        string path = folder.PathOf("gateway.json");
        await File.WriteAllTextAsync(path, config, TestContext.Current.CancellationToken);
        var (exit, output) = await RunAsync("--check-config", path);
        Assert.True(exit == 0, output);
    }

    [Fact]
    public async Task Sigterm_DrainsInFlightRequestThenExitsZero()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            arrived.TrySetResult();
            await release.Task;
            await TestUpstream.OkAsync(r, s);
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)), aot: true);
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/slow"));
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Task<int> exit = gateway.StopAsync();
        await Task.Delay(200, TestContext.Current.CancellationToken);
        release.SetResult();
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(0, await exit);
    }

    private static Task<(int Exit, string Output)> RunAsync(params string[] args) => CommandRun.RunAsync(RepoPaths.AotBinary, args);
}
