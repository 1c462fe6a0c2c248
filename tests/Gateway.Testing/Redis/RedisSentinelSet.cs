namespace Gateway.Testing.Redis;

/// <summary>
/// A master, a replica of it, and one <c>redis-sentinel</c> that watches the master under <see cref="Service"/> and
/// fails over to the replica about a second after the master is gone.
/// </summary>
public sealed class RedisSentinelSet : IAsyncDisposable
{
    public const string Service = "gwmaster";

    private RedisSentinelSet(RedisProcess master, RedisProcess replica, RedisProcess sentinel)
    {
        Master = master;
        Replica = replica;
        Sentinel = sentinel;
    }

    public RedisProcess Master { get; }

    public RedisProcess Replica { get; }

    public RedisProcess Sentinel { get; }

    public static async Task<RedisSentinelSet> StartAsync()
    {
        var master = await RedisProcess.StartAsync();
        var replica = await RedisProcess.StartAsync("--replicaof", "127.0.0.1", master.Port.ToString());
        var sentinel = await RedisProcess.StartAsync(tls: false, sentinel: true);
        await sentinel.CommandAsync("SENTINEL", "MONITOR", Service, "127.0.0.1", master.Port.ToString(), "1");
        await sentinel.CommandAsync("SENTINEL", "SET", Service, "down-after-milliseconds", "1000");
        await sentinel.CommandAsync("SENTINEL", "SET", Service, "failover-timeout", "3000");
        var set = new RedisSentinelSet(master, replica, sentinel);
        // The sentinel must know the replica before a failover can promote it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await sentinel.CommandAsync("SENTINEL", "REPLICAS", Service)).Contains(replica.Port.ToString(), StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                await set.DisposeAsync();
                throw new InvalidOperationException("the sentinel never saw the replica");
            }

            await Task.Delay(100);
        }

        return set;
    }

    /// <summary>The port the sentinel names as master now.</summary>
    public async Task<int> MasterPortAsync()
    {
        string reply = await Sentinel.CommandAsync("SENTINEL", "GET-MASTER-ADDR-BY-NAME", Service);
        string[] lines = reply.Split("\r\n");
        return int.Parse(lines[^2], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await Sentinel.DisposeAsync();
        await Replica.DisposeAsync();
        await Master.DisposeAsync();
    }
}
