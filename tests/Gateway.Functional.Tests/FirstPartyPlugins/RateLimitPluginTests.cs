using System.Text.Json.Nodes;
using Gateway.Testing;
using Gateway.Testing.Redis;
using static Gateway.Functional.Tests.FirstPartyPlugins.PluginGateway;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// rate_limit.wasm in a real gateway against a real redis-server: exact counting across workers and
/// processes, the headers, key isolation, replenishment, script reloading and Redis outages.
/// </summary>
public sealed class RateLimitPluginTests
{
    // Windows are long (GCRA releases one request every window/limit seconds, local mode counts fixed
    // windows aligned to the epoch) so that a slow CI machine cannot refill or roll over mid-test.
    private const string Client = "x-client: client-1";

    private static JsonObject RateLimit(string mode, int limit, int windowSeconds, string failurePolicy = "open",
        JsonArray? limits = null) => Plugin("rate_limit", new JsonObject
        {
            ["mode"] = mode,
            ["redis"] = "limits",
            ["failurePolicy"] = failurePolicy,
            ["key"] = new JsonObject { ["source"] = "header", ["name"] = "x-client" },
            ["limits"] = limits ?? new JsonArray(new JsonObject
            {
                ["name"] = "window",
                ["limit"] = limit,
                ["windowSeconds"] = windowSeconds,
            }),
        });

    // Generous by default: the JIT-run gateway's first Redis call compiles the client on the way, and a
    // timed-out call fails open, which would count as an extra allowed request.
    private static string RedisConfig(int workers, TestUpstream upstream, RedisProcess redis, JsonObject plugin, int timeoutMs = 5000) =>
        Config(workers, upstream, new JsonObject { ["rate-limit"] = plugin }, ["rate-limit"],
            redis: new JsonObject { ["limits"] = RedisTarget(redis, timeoutMs) });

    [Fact]
    public async Task RedisMode_ConcurrentRequestsOverTwoWorkers_ExactlyLimitPass()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(RedisConfig(2, upstream, redis, RateLimit("redis", 10, 3600)));
        await WarmUpAsync(gateway);

        ClientResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => GetAsync(gateway.Port, Client)));

        Assert.Equal(10, responses.Count(r => r.Status == 200));
        Assert.Equal(20, responses.Count(r => r.Status == 429));
        Assert.Equal(10, Counted(upstream));
        Assert.All(responses.Where(r => r.Status == 429), r =>
        {
            Assert.Equal("0", r.Header("x-ratelimit-remaining"));
            Assert.InRange(int.Parse(r.Header("retry-after")!), 1, 361); // one request is released every 360 s
            Assert.Equal("application/json", r.Header("content-type"));
        });
    }

    [Fact]
    public async Task RedisMode_TwoGatewayProcessesSharingRedis_ExactlyLimitPassInTotal()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        string config = RedisConfig(2, upstream, redis, RateLimit("redis", 8, 3600));
        await using var first = await GatewayProcess.StartAsync(config);
        await using var second = await GatewayProcess.StartAsync(config);
        await WarmUpAsync(first);
        await WarmUpAsync(second);

        ClientResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 24)
            .Select(i => GetAsync(i % 2 == 0 ? first.Port : second.Port, Client)));

        Assert.Equal(8, responses.Count(r => r.Status == 200));
        Assert.Equal(16, responses.Count(r => r.Status == 429));
    }

    [Fact]
    public async Task RedisMode_SequentialRequests_HeadersCountDownThenRetryAfter()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(RedisConfig(1, upstream, redis, RateLimit("redis", 5, 300)));
        await WarmUpAsync(gateway);

        for (int remaining = 4; remaining >= 0; remaining--)
        {
            ClientResponse ok = await GetAsync(gateway.Port, Client);
            Assert.Equal(200, ok.Status);
            Assert.Equal("5", ok.Header("x-ratelimit-limit"));
            Assert.Equal(remaining.ToString(), ok.Header("x-ratelimit-remaining"));
            Assert.InRange(int.Parse(ok.Header("x-ratelimit-reset")!), 1, 300);
        }
        ClientResponse limited = await GetAsync(gateway.Port, Client);

        Assert.Equal(429, limited.Status);
        Assert.Equal("5", limited.Header("x-ratelimit-limit"));
        Assert.Equal("0", limited.Header("x-ratelimit-remaining"));
        Assert.InRange(int.Parse(limited.Header("retry-after")!), 1, 61); // 300 s / 5 = one every 60 s
        Assert.Contains("\"error\"", limited.BodyText, StringComparison.Ordinal);
        Assert.Equal(5, Counted(upstream));
    }

    [Fact]
    public async Task RedisMode_DifferentKeys_AreCountedSeparately()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(RedisConfig(2, upstream, redis, RateLimit("redis", 3, 600)));
        await WarmUpAsync(gateway);

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await GetAsync(gateway.Port, "x-client: tenant-a")).Status);
        }
        Assert.Equal(429, (await GetAsync(gateway.Port, "x-client: tenant-a")).Status);

        ClientResponse other = await GetAsync(gateway.Port, "x-client: tenant-b");
        Assert.Equal(200, other.Status);
        Assert.Equal("2", other.Header("x-ratelimit-remaining"));
        // a request without the key is not counted against anyone
        Assert.Equal(200, (await GetAsync(gateway.Port)).Status);
    }

    [Fact]
    public async Task RedisMode_AfterTheWindow_TheWholeQuotaIsBack()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        // 2 per 6 s: one request is released every 3 s, so the burst below cannot be refilled in between.
        await using var gateway = await GatewayProcess.StartAsync(RedisConfig(1, upstream, redis, RateLimit("redis", 2, 6)));
        await WarmUpAsync(gateway);

        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        ClientResponse limited = await GetAsync(gateway.Port, Client);
        Assert.Equal(429, limited.Status);

        await Task.Delay(TimeSpan.FromSeconds(6.5), TestContext.Current.CancellationToken);

        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        Assert.Equal(429, (await GetAsync(gateway.Port, Client)).Status);
    }

    [Fact]
    public async Task RedisMode_SeveralLimits_TheMostRestrictiveIsReportedAndEnforced()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        var limits = new JsonArray(
            new JsonObject { ["name"] = "per-second", ["limit"] = 1000, ["windowSeconds"] = 1 },
            new JsonObject { ["name"] = "per-ten-minutes", ["limit"] = 3, ["windowSeconds"] = 600 });
        await using var gateway = await GatewayProcess.StartAsync(RedisConfig(1, upstream, redis, RateLimit("redis", 0, 0, limits: limits)));
        await WarmUpAsync(gateway);

        ClientResponse first = await GetAsync(gateway.Port, Client);
        Assert.Equal("3", first.Header("x-ratelimit-limit"));
        Assert.Equal("2", first.Header("x-ratelimit-remaining"));
        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        Assert.Equal(429, (await GetAsync(gateway.Port, Client)).Status);
    }

    [Fact]
    public async Task RedisMode_ScriptCacheFlushed_EvalFallbackKeepsCounting()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(RedisConfig(1, upstream, redis, RateLimit("redis", 4, 600)));
        await WarmUpAsync(gateway);

        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        Assert.StartsWith("+OK", await redis.CommandAsync("SCRIPT", "FLUSH"));
        ClientResponse third = await GetAsync(gateway.Port, Client);
        Assert.Equal(200, third.Status);
        Assert.Equal("1", third.Header("x-ratelimit-remaining"));
        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        Assert.Equal(429, (await GetAsync(gateway.Port, Client)).Status);
        // the EVAL fallback cached the script again, so the next calls are EVALSHA hits
        Assert.Contains("number_of_cached_scripts:1", await redis.CommandAsync("INFO", "memory"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedisStopped_RequestsFlowWithinTheTimeout_AndLimitingResumesAfterRestart()
    {
        const int timeoutMs = 200;
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(RedisConfig(2, upstream, redis, RateLimit("redis", 3, 600), timeoutMs));
        await WarmUpAsync(gateway);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);
        }
        Assert.Equal(429, (await GetAsync(gateway.Port, Client)).Status);

        await redis.StopAsync();
        for (int i = 0; i < 10; i++)
        {
            var (response, elapsed) = await TimedGetAsync(gateway.Port, Client);
            Assert.Equal(200, response.Status); // fail open
            Assert.Null(response.Header("x-ratelimit-limit"));
            // no longer than the Redis timeout, plus scheduling slack for a loaded CI machine
            Assert.True(elapsed < TimeSpan.FromMilliseconds(timeoutMs + 800), $"request {i} took {elapsed.TotalMilliseconds} ms");
        }
        Assert.True(await FailureCountAsync(gateway) >= 10);
        Assert.NotEqual("0", await CircuitStateAsync(gateway, "limits")); // open (or already probing)

        await redis.RestartAsync();
        // The restarted Redis lost every counter: limiting is back once a response carries the headers,
        // and from there the key gets exactly its limit again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        ClientResponse resumed;
        do
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            resumed = await GetAsync(gateway.Port, "x-client: after-restart");
            Assert.True(DateTime.UtcNow < deadline, "rate limiting did not resume after Redis came back");
        }
        while (resumed.Header("x-ratelimit-limit") is null);
        Assert.Equal("2", resumed.Header("x-ratelimit-remaining"));
        Assert.Equal(200, (await GetAsync(gateway.Port, "x-client: after-restart")).Status);
        Assert.Equal(200, (await GetAsync(gateway.Port, "x-client: after-restart")).Status);
        Assert.Equal(429, (await GetAsync(gateway.Port, "x-client: after-restart")).Status);
    }

    [Fact]
    public async Task RedisStopped_FailClosed_Answers503()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(
            RedisConfig(1, upstream, redis, RateLimit("redis", 3, 600, failurePolicy: "closed")));
        await WarmUpAsync(gateway);
        Assert.Equal(200, (await GetAsync(gateway.Port, Client)).Status);

        await redis.StopAsync();
        ClientResponse response = await GetAsync(gateway.Port, Client);

        Assert.Equal(503, response.Status);
        Assert.Equal(1, Counted(upstream));
    }

    [Fact]
    public async Task RedisStalled_AThousandRequestsWaitOnIt_APluginFreeRouteIsNotDelayed()
    {
        await using var redis = await RedisProcess.StartAsync("--enable-debug-command", "local");
        await using var upstream = new TestUpstream();
        string config = Config(2, upstream, new JsonObject { ["rate-limit"] = RateLimit("redis", 1_000_000, 3600) }, ["rate-limit"],
            redis: new JsonObject { ["limits"] = RedisTarget(redis, 10_000) }, freeRoutePrefix: "/free/");
        await using var gateway = await GatewayProcess.StartAsync(config);
        await WarmUpAsync(gateway);
        Assert.Equal(200, (await GetPathAsync(gateway.Port, "/free/warm-up")).Status);

        // Redis is single-threaded: while it sleeps, every rate_limit call waits in its queue.
        Task<string> stall = redis.CommandAsync("DEBUG", "SLEEP", "3");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 }) { Timeout = TimeSpan.FromSeconds(60) };
        Task<TimeSpan>[] limited = Enumerable.Range(0, 1000).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{gateway.Port}/api/held");
            request.Headers.Add("x-client", "client-1");
            using HttpResponseMessage response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(200, (int)response.StatusCode);
            return clock.Elapsed;
        }).ToArray();
        await Task.Delay(500, TestContext.Current.CancellationToken);

        var free = new List<TimeSpan>();
        for (int i = 0; i < 20; i++)
        {
            var (response, elapsed) = await TimedGetPathAsync(gateway.Port, "/free/item");
            Assert.Equal(200, response.Status);
            free.Add(elapsed);
        }
        TimeSpan freeDone = clock.Elapsed;
        TimeSpan[] limitedDone = await Task.WhenAll(limited);
        await stall;

        // The plugin-free requests ran while the thousand were still held by the stalled Redis ...
        Assert.True(freeDone < limitedDone.Min(), $"free route done at {freeDone}, first held request at {limitedDone.Min()}");
        Assert.True(limitedDone.Min() > TimeSpan.FromSeconds(1.5), $"a request was not held: {limitedDone.Min()}");
        // ... and none of them waited on it (generous bound for a loaded 2-core machine; Redis slept 3 s).
        Assert.True(free.Max() < TimeSpan.FromMilliseconds(750), "plugin-free latencies: " + string.Join(", ", free.Select(f => f.TotalMilliseconds)));
        // the thousand held requests all reached the upstream once Redis answered
        Assert.Equal(1000, upstream.Requests.Count(r => r.RequestLine.Contains("/api/held", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task LocalMode_ConcurrentRequestsOverTwoWorkers_ExactlyLimitPass()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(
            Config(2, upstream, new JsonObject { ["rate-limit"] = RateLimit("local", 7, 86400) }, ["rate-limit"]));

        ClientResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => GetAsync(gateway.Port, Client)));

        Assert.Equal(7, responses.Count(r => r.Status == 200));
        Assert.Equal(13, responses.Count(r => r.Status == 429));
        Assert.All(responses.Where(r => r.Status == 429), r => Assert.NotNull(r.Header("retry-after")));
        Assert.Equal(200, (await GetAsync(gateway.Port, "x-client: someone-else")).Status);
    }

    [Fact]
    public async Task LocalMode_ChurningClientKeys_ShareABoundedNumberOfEntries()
    {
        var plugin = RateLimit("local", 3, 86400);
        plugin["configuration"]!["localMaxKeys"] = 1;
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(1, upstream, new JsonObject { ["rate-limit"] = plugin }, ["rate-limit"]));

        // Every client key lands in the one entry allowed: a client inventing keys gains nothing and adds no memory.
        var statuses = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            statuses.Add((await GetAsync(gateway.Port, $"x-client: churn-{i}")).Status);
        }
        Assert.Equal(3, statuses.Count(s => s == 200));
        Assert.Equal(7, statuses.Count(s => s == 429));
    }

    [Fact]
    public async Task LocalMode_SingleLimitWindowPair_IsOneLimit()
    {
        // The shape of the design notes' example: "limit" and "windowSeconds" beside the other keys, no "limits".
        var plugin = Plugin("rate_limit", new JsonObject
        {
            ["mode"] = "local",
            ["key"] = new JsonObject { ["source"] = "header", ["name"] = "x-client" },
            ["limit"] = 4,
            ["windowSeconds"] = 86400,
        });
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(1, upstream, new JsonObject { ["rate-limit"] = plugin }, ["rate-limit"]));

        ClientResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => GetAsync(gateway.Port, Client)));

        Assert.Equal(4, responses.Count(r => r.Status == 200));
        Assert.Equal(6, responses.Count(r => r.Status == 429));
        Assert.All(responses, r => Assert.Equal("4", r.Header("x-ratelimit-limit")));
    }

    [Fact]
    public async Task SingleLimitPairTogetherWithLimits_IsRefusedAtStart()
    {
        var plugin = RateLimit("local", 5, 60);
        plugin["configuration"]!["limit"] = 3;
        plugin["configuration"]!["windowSeconds"] = 60;
        await using var upstream = new TestUpstream();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            GatewayProcess.StartAsync(Config(1, upstream, new JsonObject { ["rate-limit"] = plugin }, ["rate-limit"])));
        Assert.Contains("rate-limit", error.Message);
    }

    // Until the gateway's first Redis round trip has completed (connection opened, client code compiled)
    // a request may fail open; counted requests start after a response that carries the limit headers.
    private static async Task WarmUpAsync(GatewayProcess gateway)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            if ((await GetAsync(gateway.Port, "x-client: warm-up")).Header("x-ratelimit-limit") is not null)
            {
                return;
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Fail("rate_limit never answered from Redis");
    }

    // Requests the upstream received, without the warm-up ones.
    private static int Counted(TestUpstream upstream) => upstream.Requests.Count(r => r.Header("x-client") != "warm-up");

    // The Redis target's breaker as the admin endpoint exports it: 0 closed, 1 open, 2 half-open.
    private static async Task<string> CircuitStateAsync(GatewayProcess gateway, string target)
    {
        string metrics = await gateway.AdminGetAsync("/metrics");
        // Breakers are per target and plugin; these tests run one plugin, "rate-limit".
        string prefix = $"gateway_redis_circuit_state{{target=\"{target}\",plugin=\"rate-limit\"}} ";
        string? line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line is not null, "no breaker state for " + target + " in /metrics:\n" + metrics);
        return line[prefix.Length..].Trim();
    }

    // The plugin's failure counter as the admin endpoint exports it (the host prefixes the plugin name).
    private static async Task<long> FailureCountAsync(GatewayProcess gateway)
    {
        string metrics = await gateway.AdminGetAsync("/metrics");
        foreach (string line in metrics.Split('\n'))
        {
            if (!line.StartsWith('#') && line.Contains("rate_limit_redis_failures", StringComparison.Ordinal))
            {
                return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        Assert.Fail("rate_limit_redis_failures is not in /metrics:\n" + metrics);
        return 0;
    }
}
