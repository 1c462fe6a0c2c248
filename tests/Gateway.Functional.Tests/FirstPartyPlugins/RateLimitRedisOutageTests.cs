using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Testing;
using Gateway.Testing.Redis;
using static Gateway.Functional.Tests.FirstPartyPlugins.PluginGateway;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// rate_limit.wasm in the published gateway while its Redis is away: a Sentinel failover (the master killed under
/// load) and a Redis that is not there when the gateway starts. Requests never hang, the gateway stays ready, and
/// counting resumes within seconds once a master answers.
/// </summary>
public sealed class RateLimitRedisOutageTests
{
    private const string Target = "limits";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Fail closed: a request the plugin could not count is a 503 the test sees, never silently let through.
    private static JsonObject RateLimit() => Plugin("rate_limit", new JsonObject
    {
        ["mode"] = "redis",
        ["redis"] = Target,
        ["failurePolicy"] = "closed",
        ["key"] = new JsonObject { ["source"] = "header", ["name"] = "x-client" },
        ["limits"] = new JsonArray(new JsonObject { ["name"] = "window", ["limit"] = 1000, ["windowSeconds"] = 3600 }),
    });

    private static string Config(TestUpstream upstream, JsonObject redisTarget) =>
        PluginGateway.Config(1, upstream, new JsonObject { ["rate-limit"] = RateLimit() }, ["rate-limit"],
            redis: new JsonObject { [Target] = redisTarget });

    [Fact]
    public async Task SentinelMasterKilled_RequestsAreCountedAgainWithinSeconds_AndNoneHangs()
    {
        await using var set = await RedisSentinelSet.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream, new JsonObject
        {
            ["topology"] = "sentinel",
            ["endpoints"] = new JsonArray(JsonValue.Create(set.Sentinel.Endpoint)),
            ["sentinelService"] = RedisSentinelSet.Service,
            ["timeoutMs"] = 300,
            ["connectTimeoutMs"] = 1000,
            ["circuitBreaker"] = new JsonObject { ["failureThreshold"] = 5, ["openMs"] = 500 },
        }), aot: true);
        Assert.True(await CountedAsync(gateway, "x-client: before", TimeSpan.FromSeconds(20)), "never counted before the failover");

        await set.Master.StopAsync();
        var outage = Stopwatch.StartNew();
        long promotedAt = -1;
        while (true)
        {
            var (response, elapsed) = await TimedGetAsync(gateway.Port, "x-client: during");
            Assert.True(elapsed < TimeSpan.FromSeconds(2), $"a request waited {elapsed.TotalMilliseconds} ms");
            Assert.True(response.Status is 200 or 503, $"status {response.Status}");
            if (promotedAt < 0 && await set.MasterPortAsync() == set.Replica.Port)
            {
                promotedAt = outage.ElapsedMilliseconds;
            }

            if (promotedAt >= 0 && response.Header("x-ratelimit-remaining") is not null)
            {
                break;
            }

            Assert.True(outage.Elapsed < TimeSpan.FromSeconds(45), $"not counted again (promoted at {promotedAt} ms)");
            await Task.Delay(100, Ct);
        }

        Assert.True(outage.ElapsedMilliseconds - promotedAt < 10_000, $"counting resumed {outage.ElapsedMilliseconds - promotedAt} ms after the promotion");
        // Each request is counted on the new master: the remaining quota goes down one by one.
        int first = int.Parse((await GetAsync(gateway.Port, "x-client: after")).Header("x-ratelimit-remaining")!);
        int second = int.Parse((await GetAsync(gateway.Port, "x-client: after")).Header("x-ratelimit-remaining")!);
        Assert.Equal(first - 1, second);
        Assert.Equal(HttpStatusCode.OK, await gateway.AdminStatusAsync("/readyz"));
    }

    [Fact]
    public async Task RedisAbsentAtStart_GatewayStartsReady_CallsFailFast_AndTheBreakerRecoversWhenRedisComesUp()
    {
        // Take a port for Redis, then leave it empty while the gateway starts.
        await using var redis = await RedisProcess.StartAsync();
        await redis.StopAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream, new JsonObject
        {
            ["endpoints"] = new JsonArray(JsonValue.Create(redis.Endpoint)),
            ["timeoutMs"] = 300,
            ["connectTimeoutMs"] = 300,
            ["circuitBreaker"] = new JsonObject { ["failureThreshold"] = 3, ["openMs"] = 500 },
        }), aot: true);
        Assert.Equal(HttpStatusCode.OK, await gateway.AdminStatusAsync("/readyz"));

        for (int i = 0; i < 6; i++)
        {
            var (response, elapsed) = await TimedGetAsync(gateway.Port, "x-client: early");
            // The callback sees the failure status: rate_limit fails closed.
            Assert.Equal(503, response.Status);
            Assert.True(elapsed < TimeSpan.FromMilliseconds(300 + 700), $"request {i} took {elapsed.TotalMilliseconds} ms");
        }

        Assert.Equal("1", await BreakerStateAsync(gateway));
        Assert.Equal(HttpStatusCode.OK, await gateway.AdminStatusAsync("/readyz"));
        Assert.Empty(upstream.Requests);

        await redis.RestartAsync();
        Assert.True(await CountedAsync(gateway, "x-client: late", TimeSpan.FromSeconds(20)), "not counted within 20 s of Redis coming up");
        Assert.Equal("0", await BreakerStateAsync(gateway));
    }

    /// <summary>Requests until one comes back counted (with the rate-limit headers), or the time is up.</summary>
    private static async Task<bool> CountedAsync(GatewayProcess gateway, string header, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            if ((await GetAsync(gateway.Port, header)).Header("x-ratelimit-remaining") is not null)
            {
                return true;
            }

            await Task.Delay(100, Ct);
        }

        return false;
    }

    // The breaker of this target and plugin as /metrics exports it: 0 closed, 1 open, 2 half-open.
    private static async Task<string> BreakerStateAsync(GatewayProcess gateway)
    {
        string metrics = await gateway.AdminGetAsync("/metrics");
        string prefix = $"gateway_redis_circuit_state{{target=\"{Target}\",plugin=\"rate-limit\"}} ";
        string? line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line is not null, "no breaker state in /metrics:\n" + metrics);
        return line[prefix.Length..].Trim();
    }
}
