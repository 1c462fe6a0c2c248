namespace Gateway.Testing.Redis;

/// <summary>A Redis Cluster of three masters (no replicas) on loopback, created with <c>redis-cli --cluster create</c>.</summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private RedisCluster(RedisProcess[] nodes) => Nodes = nodes;

    public IReadOnlyList<RedisProcess> Nodes { get; }

    /// <summary>Every node's endpoint: the seeds a client is configured with.</summary>
    public IEnumerable<string> Endpoints => Nodes.Select(n => n.Endpoint);

    public static async Task<RedisCluster> StartAsync()
    {
        var nodes = new RedisProcess[3];
        var cluster = new RedisCluster(nodes);
        try
        {
            for (int i = 0; i < nodes.Length; i++)
            {
                nodes[i] = await RedisProcess.StartAsync("--cluster-enabled", "yes", "--cluster-node-timeout", "2000");
            }
            await CreateAsync(cluster.Endpoints);
            await WaitUntilUpAsync(nodes);
            return cluster;
        }
        catch
        {
            // Whatever failed (redis-cli's exit or time limit, a node that stopped answering): the nodes go with it.
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>redis-cli --cluster create</c> on the nodes, under <see cref="CommandRun"/>'s time limit.</summary>
    private static async Task CreateAsync(IEnumerable<string> endpoints)
    {
        var (exit, output) = await CommandRun.RunAsync("redis-cli", ["--cluster", "create", .. endpoints, "--cluster-yes"]);
        if (exit != 0)
        {
            throw new InvalidOperationException("redis-cli --cluster create failed: " + output);
        }
    }

    /// <summary>Every node must agree the cluster is up (all slots covered) before a client can rely on it.</summary>
    private static async Task WaitUntilUpAsync(RedisProcess[] nodes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        foreach (var node in nodes)
        {
            while (!(await node.CommandAsync("CLUSTER", "INFO")).Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException("the cluster did not reach cluster_state:ok");
                }

                await Task.Delay(100);
            }
        }
    }

    /// <summary>The node that serves <paramref name="key"/>'s slot.</summary>
    public async Task<RedisProcess> NodeForAsync(string key)
    {
        string slot = (await Nodes[0].CommandAsync("CLUSTER", "KEYSLOT", key)).Trim().TrimStart(':');
        foreach (var node in Nodes)
        {
            if ((await node.CommandAsync("CLUSTER", "COUNTKEYSINSLOT", slot)) is not null
                && !(await node.CommandAsync("GET", key)).StartsWith("-MOVED", StringComparison.Ordinal))
            {
                return node;
            }
        }

        throw new InvalidOperationException("no node serves " + key);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            // A start that failed part of the way leaves the later slots empty.
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }
    }
}
