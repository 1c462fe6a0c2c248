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
        // Requests are counted on the new master: the remaining quota goes down. The client may still reconnect once
        // right after the promotion (a request then fails closed with 503), so each count gets a few seconds.
        int first = await RemainingAsync(gateway, "x-client: after", TimeSpan.FromSeconds(5));
        int second = await RemainingAsync(gateway, "x-client: after", TimeSpan.FromSeconds(5));
        Assert.True(second < first, $"remaining went from {first} to {second}");
        Assert.Equal(HttpStatusCode.OK, await gateway.AdminStatusAsync("/readyz"));
    }

    [Fact]
    public async Task RedisAbsentAtStart_GatewayStartsReady_CallsFailFast_AndTheBreakerRecoversWhenRedisComesUp()
    {
        // Take a port for Redis, then leave it closed (held, see StopAsync) while the gateway starts.
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

    /// <summary>The remaining quota of the first request that comes back counted within the time given.</summary>
    private static async Task<int> RemainingAsync(GatewayProcess gateway, string header, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        int lastStatus = 0;
        while (clock.Elapsed < within)
        {
            var response = await GetAsync(gateway.Port, header);
            if (response.Header("x-ratelimit-remaining") is { } remaining)
            {
                return int.Parse(remaining, System.Globalization.CultureInfo.InvariantCulture);
            }

            lastStatus = response.Status;
            await Task.Delay(100, Ct);
        }

        Assert.Fail($"no counted response within {within.TotalSeconds} s (last status {lastStatus})");
        return -1;
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
