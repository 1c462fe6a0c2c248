using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Testing;
using Gateway.Testing.Redis;

namespace Gateway.Functional.Tests;

/// <summary>
/// Metrics belong to the process, not to a config snapshot: a reload neither resets the data path's counters, a
/// plugin's guest metrics nor a backend's call counters (also when it re-creates the plugin or the backend), nor
/// splits the open-connections gauge between the snapshot a connection opened under and the one it closes under.
/// Runs the published AOT binary.
/// </summary>
public sealed partial class MetricsReloadTests
{
    private static string Config(string endpoint, params string[] prefixes) => TestConfig.Proxy(
        TestConfig.Quote(endpoint),
        routes: string.Join(", ", prefixes.Select(p => $$"""{ "name": "r{{p.Trim('/')}}", "match": { "pathPrefix": "{{p}}" }, "cluster": "backend" }""")));

    [Fact]
    public async Task ReloadUnderOpenConnections_CountersSurviveAndActiveGaugeReturnsToZero()
    {
        Assert.True(File.Exists(RepoPaths.AotBinary), $"{RepoPaths.AotBinary} is missing: run scripts/publish.sh");
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, "/a"), aot: true);
        var clients = new List<RawClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                clients.Add(new RawClient(gateway.Port));
                Assert.Equal(200, await StatusAsync(clients[i], "/a/x"));
            }
            string before = await gateway.AdminGetAsync("/metrics");
            Assert.Equal(3, Value(before, "gateway_requests_total{route=\"ra\",status_class=\"2xx\"}"));
            Assert.Equal(3, Value(before, "gateway_connections_active"));

            await File.WriteAllTextAsync(gateway.ConfigPath, Config(upstream.Endpoint, "/a", "/b"), TestContext.Current.CancellationToken);
            Assert.True(await EventuallyAsync(async () =>
                (await gateway.AdminGetAsync("/metrics")).Contains("gateway_config_reloads_total{result=\"applied\"} 1", StringComparison.Ordinal)),
                "the reload never applied");

            // The connections opened before the reload keep serving; one more opens under the new snapshot.
            foreach (RawClient client in clients)
            {
                Assert.Equal(200, await StatusAsync(client, "/a/x"));
            }
            clients.Add(new RawClient(gateway.Port));
            Assert.Equal(200, await StatusAsync(clients[^1], "/b/x"));

            // A request is counted as its exchange ends, just after the response's last byte went out: the client can
            // read the response before the count moves.
            string after = "";
            Assert.True(await EventuallyAsync(async () =>
                Value(after = await gateway.AdminGetAsync("/metrics"), "gateway_requests_total{route=\"rb\",status_class=\"2xx\"}") == 1),
                "the request on the new route was never counted");
            Assert.Equal(6, Value(after, "gateway_requests_total{route=\"ra\",status_class=\"2xx\"}"));
            Assert.Equal(1, Value(after, "gateway_requests_total{route=\"rb\",status_class=\"2xx\"}"));
            Assert.Equal(7, Value(after, "gateway_request_duration_seconds_count{route=\"ra\"}") + Value(after, "gateway_request_duration_seconds_count{route=\"rb\"}"));
            Assert.Equal(4, Value(after, "gateway_connections_accepted_total"));
            Assert.Equal(4, Value(after, "gateway_connections_active"));
        }
        finally
        {
            foreach (RawClient client in clients)
            {
                client.Dispose();
            }
        }

        // Connections from both snapshots close: the gauge counts them down on the one instance they were counted on.
        Assert.True(await EventuallyAsync(async () => Value(await gateway.AdminGetAsync("/metrics"), "gateway_connections_active") == 0),
            "gateway_connections_active never returned to 0:\n" + await gateway.AdminGetAsync("/metrics"));
        Assert.Equal(6, Value(await gateway.AdminGetAsync("/metrics"), "gateway_requests_total{route=\"ra\",status_class=\"2xx\"}"));
    }

    private static string Behaviors => RepoPaths.TestModule("behaviors");

    /// <summary>A config whose <paramref name="generation"/> changes the plugins' configuration and the Redis timeout: a reload re-creates both.</summary>
    private static string PluginAndRedisConfig(string upstream, RedisProcess redis, string generation, int redisTimeoutMs) => $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "backend": { "endpoints": ["{{upstream}}"] } },
          "routes": [
            { "name": "counted", "match": { "pathPrefix": "/m" }, "cluster": "backend", "plugins": ["m"] },
            { "name": "redis", "match": { "pathPrefix": "/r" }, "cluster": "backend", "plugins": ["r"] }
          ],
          "plugins": {
            "m": { "module": "{{Behaviors}}", "configuration": "metrics {{generation}}", "limits": { "cpuMillisecondsPerCall": 1000 } },
            "r": { "module": "{{Behaviors}}", "configuration": "redis_raw cache", "limits": { "cpuMillisecondsPerCall": 1000 } }
          },
          "redis": { "cache": { "endpoints": ["{{redis.Endpoint}}"], "timeoutMs": {{redisTimeoutMs}} } }
        }
        """;

    [Fact]
    public async Task ReloadRecreatingPluginsAndBackends_GuestAndBackendCountersSurvive()
    {
        Assert.True(File.Exists(RepoPaths.AotBinary), $"{RepoPaths.AotBinary} is missing: run scripts/publish.sh");
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(PluginAndRedisConfig(upstream.Endpoint, redis, "one", 2000), aot: true);
        using var client = new RawClient(gateway.Port);
        const string Ping = "x-resp: *1~$4~PING~\r\n";
        Assert.Equal(200, await StatusAsync(client, "/m/a"));
        Assert.Equal(200, await StatusAsync(client, "/m/b"));
        await client.SendAsync(RawClient.Get("/r/x", extra: Ping));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        string before = await gateway.AdminGetAsync("/metrics");
        Assert.Equal(2, Value(before, "wasm_m_requests"));
        Assert.Equal(1, Value(before, "gateway_redis_calls_total{target=\"cache\",status=\"ok\"}"));

        // New plugin configurations and a new Redis timeout: the plugins and the Redis target are built anew.
        await File.WriteAllTextAsync(gateway.ConfigPath, PluginAndRedisConfig(upstream.Endpoint, redis, "two", 1500), TestContext.Current.CancellationToken);
        Assert.True(await EventuallyAsync(async () =>
            (await gateway.AdminGetAsync("/metrics")).Contains("gateway_config_reloads_total{result=\"applied\"} 1", StringComparison.Ordinal)),
            "the reload never applied");

        // The connection opened before the reload is served under the new snapshot, counting on the same series.
        Assert.Equal(200, await StatusAsync(client, "/m/c"));
        await client.SendAsync(RawClient.Get("/r/y", extra: Ping));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        string after = await gateway.AdminGetAsync("/metrics");
        Assert.Equal(3, Value(after, "wasm_m_requests"));
        Assert.Equal(2, Value(after, "gateway_redis_calls_total{target=\"cache\",status=\"ok\"}"));
        Assert.Equal(2, Value(after, "gateway_redis_call_duration_seconds_count{target=\"cache\"}"));
    }

    /// <summary>The value of the series named exactly <paramref name="series"/> (name and labels); 0 when absent.</summary>
    private static long Value(string metrics, string series)
    {
        foreach (Match line in SeriesLine().Matches(metrics))
        {
            if (line.Groups[1].Value == series)
            {
                return long.Parse(line.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    private static async Task<int> StatusAsync(RawClient client, string path)
    {
        await client.SendAsync(RawClient.Get(path));
        return (await client.ReadResponseAsync())!.Status;
    }

    private static Task<bool> EventuallyAsync(Func<Task<bool>> condition) =>
        Eventually.HoldsAsync(condition, TestContext.Current.CancellationToken);

    [GeneratedRegex(@"^(\S+) (-?\d+)$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}
