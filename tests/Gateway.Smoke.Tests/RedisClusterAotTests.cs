using Gateway.Testing;
using Gateway.Testing.Redis;

namespace Gateway.Smoke.Tests;

/// <summary>
/// The Redis client under Native AOT: two published gateway processes share one 3-master Redis Cluster through the
/// rate_limit plugin, and together let exactly the limit through (its keys carry one hash tag per client, so each
/// client's script runs on the node that owns that slot).
/// </summary>
public sealed class RedisClusterAotTests
{
    private const int Limit = 20;

    [Fact]
    public async Task TwoAotGatewaysSharingARedisCluster_CountALimitExactly()
    {
        string rateLimit = Path.Combine(RepoPaths.PluginsDir, "rate_limit.wasm");
        Assert.True(File.Exists(rateLimit), "rate_limit.wasm missing: run `make plugins`");
        await using var cluster = await RedisCluster.StartAsync();
        await using var upstream = new TestUpstream();
        string seeds = string.Join(", ", cluster.Endpoints.Select(e => $"\"{e}\""));
        string config = TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint),
            routes: """{ "name": "api", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["rate-limit"] }""",
            extra: $$"""
                , "plugins": {
                    "rate-limit": { "module": "{{rateLimit}}", "failurePolicy": "closed",
                      "configuration": { "mode": "redis", "redis": "shared", "failurePolicy": "closed", "key": { "source": "header", "name": "x-client" },
                                         "limits": [ { "name": "m", "limit": {{Limit}}, "windowSeconds": 600 } ] },
                      "limits": { "cpuMillisecondsPerCall": 200 },
                      "redis": { "shared": { "scripts": ["7c8a1a4fd6b22f3df51a6e234cc0f35eee25627e"] } } }
                  },
                  "redis": { "shared": { "topology": "cluster", "endpoints": [{{seeds}}], "timeoutMs": 2000, "connectTimeoutMs": 2000 } }
                """);
        await using var first = await GatewayProcess.StartAsync(config, aot: true);
        await using var second = await GatewayProcess.StartAsync(config, aot: true);

        // Several clients, so their keys land on different nodes; each gets exactly its limit across both processes.
        foreach (string client in new[] { "alpha", "bravo", "charlie" })
        {
            var requests = new List<Task<int>>();
            for (int i = 0; i < Limit + 10; i++)
            {
                requests.Add(StatusAsync(i % 2 == 0 ? first.Port : second.Port, client));
            }

            int[] statuses = await Task.WhenAll(requests);
            Assert.Equal(Limit, statuses.Count(s => s == 200));
            Assert.Equal(10, statuses.Count(s => s == 429));
        }

        // The counters live in the cluster, spread over its masters.
        int mastersWithKeys = 0;
        foreach (var node in cluster.Nodes)
        {
            mastersWithKeys += (await node.CommandAsync("DBSIZE")).StartsWith(":0", StringComparison.Ordinal) ? 0 : 1;
        }

        Assert.True(mastersWithKeys >= 2, $"only {mastersWithKeys} master(s) hold counters");
    }

    private static async Task<int> StatusAsync(int port, string client)
    {
        using var connection = new RawClient(port);
        await connection.SendAsync(RawClient.Get("/", extra: $"x-client: {client}\r\n"));
        return (await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30)))!.Status;
    }
}
