using System.Diagnostics;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests.Plugins;

/// <summary>
/// Real compiled plugins (plugins/testdata, built by make) on real requests through the gateway process:
/// header and body mutation, routing, local replies, http calls, and what happens when a plugin traps,
/// loops, or never resumes.
/// </summary>
public sealed class PluginChainTests
{
    private static string Behaviors => RepoPaths.TestModule("behaviors");

    private static string Config(string upstream, string plugins, string routePlugins, string cluster = "", string extraClusters = "")
    {
        return $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "backend": { "endpoints": ["{{upstream}}"] {{cluster}} } {{extraClusters}} },
          "routes": [ { "name": "all", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": [{{routePlugins}}] } ],
          "plugins": { {{plugins}} }
        }
        """;
    }

    // The JIT build compiles host imports inside a guest's first callbacks, which can pass the 5 ms default on a loaded
    // machine; behaviour tests get room for that, the loop tests pass their own budget.
    private static string Plugin(string name, string configuration, string policy = "closed", string limits = ", \"limits\": { \"cpuMillisecondsPerCall\": 1000 }") =>
        $"\"{name}\": {{ \"module\": \"{Behaviors}\", \"configuration\": \"{configuration}\", \"failurePolicy\": \"{policy}\" {limits} }}";

    [Fact]
    public async Task HeaderPlugin_MutatesRequestHeadersSeenUpstream()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("h", "headers"), "\"h\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/", extra: "x-remove: 1\r\nx-replace: old\r\n"));
        var response = await client.ReadResponseAsync();
        // The same plugin rewrites the response too: :status and an added field.
        Assert.Equal(201, response!.Status);
        Assert.Equal("yes", response.Header("x-response"));
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("1", received.Header("x-added"));
        Assert.Equal("new", received.Header("x-replace"));
        Assert.Null(received.Header("x-remove"));
    }

    [Fact]
    public async Task RoutingPlugin_RewritesPathAndAuthority()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("r", "route"), "\"r\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/x", extra: "x-canary: 1\r\n"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("GET /canary/x HTTP/1.1", received.RequestLine);
        Assert.Equal("canary.internal", received.Header("host"));
    }

    [Theory]
    [InlineData("route", "canary")]
    [InlineData("route_kept", "backend")]
    public async Task PathRewrittenByPlugin_ReRoutedUnlessTheRouteCacheIsKept(string mode, string expectedCluster)
    {
        await using var backend = new TestUpstream();
        await using var canary = new TestUpstream();
        string config = $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "backend": { "endpoints": ["{{backend.Endpoint}}"] }, "canary": { "endpoints": ["{{canary.Endpoint}}"] } },
          "routes": [
            { "name": "canary", "match": { "pathPrefix": "/canary/" }, "cluster": "canary" },
            { "name": "all", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["r"] }
          ],
          "plugins": { {{Plugin("r", mode)}} }
        }
        """;
        await using var gateway = await GatewayProcess.StartAsync(config);
        using var client = new RawClient(gateway.Port);

        await client.SendAsync(RawClient.Get("/x", extra: "x-canary: 1\r\n"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        var reached = expectedCluster == "canary" ? canary : backend;
        Assert.True(reached.Requests.TryDequeue(out var received), $"the request did not reach {expectedCluster}");
        Assert.Equal("GET /canary/x HTTP/1.1", received.RequestLine);
        Assert.Empty(expectedCluster == "canary" ? backend.Requests : canary.Requests);

        // Without the rewrite the request stays on its route.
        await client.SendAsync(RawClient.Get("/y"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(backend.Requests.TryDequeue(out var plain));
        Assert.Equal("GET /y HTTP/1.1", plain.RequestLine);
    }

    [Fact]
    public async Task BodyPlugin_RewritesBufferedRequestBody()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("b", "body"), "\"b\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST / HTTP/1.1\r\nhost: a.test\r\ncontent-length: 6\r\n\r\nmiddle");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("rewritten:middle:end", Encoding.ASCII.GetString(received.Body));
    }

    [Fact]
    public async Task JsonValidation_InvalidBodyAnsweredLocallyAndNothingSentUpstream()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("j", "json"), "\"j\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync("POST / HTTP/1.1\r\nhost: a.test\r\ncontent-length: 8\r\n\r\nnot json");
        var response = await client.ReadResponseAsync();
        Assert.Equal(400, response!.Status);
        Assert.Equal("invalid json", response.BodyText);
    }

    [Fact]
    public async Task LocalReply_ShortCircuitsTheRestOfTheChain()
    {
        await using var upstream = new TestUpstream();
        string plugins = Plugin("local", "local") + ", " + Plugin("after", "headers");
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, plugins, "\"local\", \"after\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        var response = await client.ReadResponseAsync();
        Assert.Equal("yes", response!.Header("x-local"));
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task HttpCall_PausesUntilTheCalloutReturns()
    {
        await using var upstream = new TestUpstream();
        int calls = 0;
        await using var auth = new TestUpstream(async (r, s) =>
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(10);
            await TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        });
        string extra = $$""", "authsvc": { "endpoints": ["{{auth.Endpoint}}"] }""";
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("a", "auth authsvc"), "\"a\"", extraClusters: extra));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(1, calls);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        // The plugin copied the callout's answer into the request before resuming it.
        Assert.Equal("ok", received.Header("x-auth"));
    }

    [Fact]
    public async Task HttpCall_ReusesItsConnection_UntilAReloadChangesItsCluster()
    {
        await using var upstream = new TestUpstream();
        await using var auth = new TestUpstream((r, s) => TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
        string Auth(string options = "") => $$""", "authsvc": { "endpoints": ["{{auth.Endpoint}}"] {{options}} }""";
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("a", "auth authsvc"), "\"a\"", extraClusters: Auth()));
        using var client = new RawClient(gateway.Port);
        for (int i = 0; i < 3; i++)
        {
            await client.SendAsync(RawClient.Get());
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        }
        Assert.Equal(3, auth.Requests.Count);
        Assert.Equal(1, auth.ConnectionCount);
        Assert.Equal(0, auth.EndedConnections);

        // The reloaded config changes the callouts' cluster: its client starts over, the replaced one closes its idle connection.
        string reloaded = Config(upstream.Endpoint, Plugin("a", "auth authsvc"), "\"a\"", extraClusters: Auth(", \"pooledIdleTimeoutMs\": 20000"));
        await File.WriteAllTextAsync(gateway.ConfigPath, reloaded, TestContext.Current.CancellationToken);
        Assert.True(await Eventually.HoldsAsync(() => Task.FromResult(auth.EndedConnections == 1), TestContext.Current.CancellationToken),
            $"the replaced client's idle connection stayed open\n{gateway.Output}");
        await client.SendAsync(RawClient.Get());
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(2, auth.ConnectionCount);
    }

    /// <summary>
    /// A reload that changes only the plugin leaves the callouts' cluster as it was: the new generation's
    /// callouts go on the connection the replaced one opened, with no connect, and it stays open once that one is gone.
    /// </summary>
    [Fact]
    public async Task HttpCall_ReloadLeavingItsClusterUnchanged_KeepsItsConnection()
    {
        await using var upstream = new TestUpstream();
        await using var auth = new TestUpstream((r, s) => TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
        string extra = $$""", "authsvc": { "endpoints": ["{{auth.Endpoint}}"] }""";
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("a", "auth authsvc"), "\"a\"", extraClusters: extra));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get());
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal(1, auth.ConnectionCount);

        string reloaded = Config(upstream.Endpoint, Plugin("a", "auth authsvc", policy: "open"), "\"a\"", extraClusters: extra);
        await File.WriteAllTextAsync(gateway.ConfigPath, reloaded, TestContext.Current.CancellationToken);
        Assert.True(await Eventually.HoldsAsync(() => Task.FromResult(gateway.Output.Contains("\"reload_applied\"", StringComparison.Ordinal)),
            TestContext.Current.CancellationToken), $"the reload never applied\n{gateway.Output}");
        // The plugin's options changed: the request runs on the new generation's VM and callout client.
        Assert.Contains("1 plugin VM groups rebuilt", gateway.Output);
        for (int i = 0; i < 2; i++)
        {
            await client.SendAsync(RawClient.Get());
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
            // Between the two, the replaced generation is let go of, and the connection must outlive it.
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        Assert.Equal(3, auth.Requests.Count);
        Assert.Equal(1, auth.ConnectionCount);
        Assert.Equal(0, auth.EndedConnections);
    }

    [Theory]
    [InlineData("closed", 500)]
    [InlineData("open", 200)]
    public async Task InfiniteLoop_EndsPerFailurePolicyAndOtherRequestsKeepFlowing(string policy, int expected)
    {
        await using var upstream = new TestUpstream();
        string plugins = Plugin("loop", "loop", policy, ", \"limits\": { \"cpuMillisecondsPerCall\": 20 }");
        string config = $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "backend": { "endpoints": ["{{upstream.Endpoint}}"] } },
          "routes": [
            { "name": "looping", "match": { "pathPrefix": "/loop" }, "cluster": "backend", "plugins": ["loop"] },
            { "name": "plain", "match": { "pathPrefix": "/" }, "cluster": "backend" }
          ],
          "plugins": { {{plugins}} }
        }
        """;
        await using var gateway = await GatewayProcess.StartAsync(config);
        using var looping = new RawClient(gateway.Port);
        using var plain = new RawClient(gateway.Port);
        var clock = Stopwatch.StartNew();
        await looping.SendAsync(RawClient.Get("/loop"));
        await plain.SendAsync(RawClient.Get("/plain"));
        var loopResponse = await looping.ReadResponseAsync();
        Assert.Equal(expected, loopResponse!.Status);
        Assert.Equal(200, (await plain.ReadResponseAsync())!.Status);
        Assert.True(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms");
        // The VM was replaced: the next looping request is handled the same way, not by a dead VM.
        await looping.SendAsync(RawClient.Get("/loop"));
        Assert.Equal(expected, (await looping.ReadResponseAsync())!.Status);
        string metrics = await gateway.AdminGetAsync("/metrics");
        Assert.Contains("gateway_plugin_deadline_exceeded_total{plugin=\"loop\"} 2", metrics);
    }

    [Fact]
    public async Task IdleGateway_EpochThreadSleeps_AndALoopAfterwardsIsStillInterrupted()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(
            Config(upstream.Endpoint, Plugin("loop", "loop", "closed", ", \"limits\": { \"cpuMillisecondsPerCall\": 20 }"), "\"loop\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/warm-up"));
        Assert.Equal(500, (await client.ReadResponseAsync())!.Status);

        // No guest runs: past the last budget announced (the replacement VM's 1 s start-up budget) and a margin,
        // the epoch thread parks and stops waking up.
        await Task.Delay(2000, TestContext.Current.CancellationToken);
        long before = EpochThreadSwitches(gateway.Pid);
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        long idle = EpochThreadSwitches(gateway.Pid) - before;
        Assert.True(idle < 50, $"the idle epoch thread switched {idle} times in a second (it ticks 1000 times a second while awake)");

        // The next guest call wakes it, so an endless loop still ends at its deadline.
        var clock = Stopwatch.StartNew();
        await client.SendAsync(RawClient.Get("/spin"));
        Assert.Equal(500, (await client.ReadResponseAsync())!.Status);
        Assert.True(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms");
    }

    /// <summary>Context switches of the gateway's "wasm-epoch" thread, from the kernel's view.</summary>
    private static long EpochThreadSwitches(int pid)
    {
        long total = 0;
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') != "wasm-epoch")
            {
                continue;
            }
            foreach (string line in File.ReadLines(Path.Combine(task, "status")))
            {
                if (line.Contains("ctxt_switches", StringComparison.Ordinal))
                {
                    total += long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        return total;
    }

    [Fact]
    public async Task TrapInHeaderCallback_FailsClosedThenVmIsRecreated()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("t", "trap_on_header"), "\"t\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/", extra: "x-trap: 1\r\n"));
        Assert.Equal(500, (await client.ReadResponseAsync())!.Status);
        await client.SendAsync(RawClient.Get("/"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("1", received.Header("x-survived"));
    }

    [Fact]
    public async Task PluginThatNeverContinues_RequestTimesOutCleanly()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("n", "never"), "\"n\"", cluster: ", \"requestTimeoutMs\": 500"));
        using var client = new RawClient(gateway.Port);
        var clock = Stopwatch.StartNew();
        await client.SendAsync(RawClient.Get());
        Assert.Equal(504, (await client.ReadResponseAsync())!.Status);
        Assert.InRange(clock.ElapsedMilliseconds, 400, 3000);
        Assert.Empty(upstream.Requests);
        // The connection and the worker are still usable.
        await client.SendAsync(RawClient.Get());
        Assert.Equal(504, (await client.ReadResponseAsync())!.Status);
    }

    [Fact]
    public async Task PluginThatNeverContinuesTheResponseHead_RequestTimesOutCleanly()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("n", "never_response"), "\"n\"", cluster: ", \"requestTimeoutMs\": 500"));
        for (int i = 0; i < 2; i++)
        {
            using var client = new RawClient(gateway.Port);
            var clock = Stopwatch.StartNew();
            await client.SendAsync(RawClient.Get());
            Assert.Equal(504, (await client.ReadResponseAsync())!.Status);
            Assert.InRange(clock.ElapsedMilliseconds, 400, 3000);
        }
        Assert.Equal(2, upstream.Requests.Count);
    }

    [Fact]
    public async Task PluginThatNeverContinuesTheRequestBody_RequestTimesOutCleanly()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, Plugin("n", "never_body"), "\"n\"", cluster: ", \"requestTimeoutMs\": 500"));
        for (int i = 0; i < 2; i++)
        {
            using var client = new RawClient(gateway.Port);
            var clock = Stopwatch.StartNew();
            await client.SendAsync("POST / HTTP/1.1\r\nhost: a.test\r\ncontent-length: 6\r\n\r\nmiddle");
            Assert.Equal(504, (await client.ReadResponseAsync())!.Status);
            Assert.InRange(clock.ElapsedMilliseconds, 400, 3000);
        }
    }

    [Fact]
    public async Task BadModule_StartupAndCheckConfigNameThePluginAndReason()
    {
        string bad = Path.Combine(RepoPaths.PluginsDir, "testdata", "no_abi_marker.wasm");
        string config = Config("127.0.0.1:1", $"\"bad\": {{ \"module\": \"{bad}\" }}", "\"bad\"");
        await using var upstream = new TestUpstream();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(config));
        Assert.Contains("bad", error.Message);
        Assert.Contains("ABI", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
