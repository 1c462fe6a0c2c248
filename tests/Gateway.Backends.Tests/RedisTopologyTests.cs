using System.Diagnostics;
using Gateway.Backends.Redis;
using Gateway.Testing;
using Gateway.Testing.Redis;

namespace Gateway.Backends.Tests;

/// <summary>The Redis target against real servers in each topology: a 3-master Cluster, Sentinel failover, TLS only, ACL users.</summary>
public sealed class RedisTopologyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cluster_KeysAndScriptKeysAreRoutedToTheirSlotsNode()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "cluster", Topology = RedisTopology.Cluster, Endpoints = [.. cluster.Endpoints], TimeoutMs = 2000,
                ConnectTimeoutMs = 2000, Plugins = RedisTargetCalls.OwnIdentity }], [], new CapturingLoggerFactory());
        Assert.Empty(await registry.CheckAsync(Ct));
        var target = registry.FindRedis("cluster")!;
        Assert.True(await RedisWarmUp.UntilOkAsync(target));
        var nodesUsed = new HashSet<int>();
        for (int i = 0; i < 12; i++)
        {
            string key = $"k{i}";
            Assert.Equal("+OK\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("SET", key, $"v{i}"), 0)).Resp);
            var owner = await cluster.NodeForAsync(key);
            string value = $"v{i}";
            Assert.Equal($"${value.Length}\r\n{value}\r\n", await owner.CommandAsync("GET", key));
            nodesUsed.Add(owner.Port);
        }
        Assert.Equal(3, nodesUsed.Count);

        // A script's keys (by numkeys) route it: the rate_limit shape, one hash tag per client.
        const string script = "return redis.call('INCR', KEYS[1])";
        for (int i = 1; i <= 3; i++)
        {
            var reply = await target.CallAsync(RawRedisClient.Command("EVAL", script, "1", "rl:{client-7}:m"), 0);
            Assert.Equal($":{i}\r\n", System.Text.Encoding.ASCII.GetString(reply.Resp));
        }
    }

    [Fact]
    public async Task Sentinel_MasterKilled_CallsSucceedAgainWithinSeconds_AndNoneHangs()
    {
        await using var set = await RedisSentinelSet.StartAsync();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "ha", Topology = RedisTopology.Sentinel, Endpoints = [set.Sentinel.Endpoint],
                SentinelService = RedisSentinelSet.Service, TimeoutMs = 300, ConnectTimeoutMs = 1000,
                CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 1000 } }], [], new CapturingLoggerFactory());
        Assert.Empty(await registry.CheckAsync(Ct));
        var target = registry.FindRedis("ha")!;
        Assert.True(await RedisWarmUp.UntilOkAsync(target));
        Assert.Equal(":1\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("INCR", "ha:count"), 0)).Resp);

        await set.Master.StopAsync();
        // Until the sentinel promotes the replica and the client follows, calls fail fast; none hangs.
        var outage = Stopwatch.StartNew();
        int promotedAt = -1;
        while (true)
        {
            var call = Stopwatch.StartNew();
            var reply = await target.CallAsync(RawRedisClient.Command("INCR", "ha:after"), 0);
            Assert.True(call.ElapsedMilliseconds < 2000, $"a call hung for {call.ElapsedMilliseconds} ms");
            if (promotedAt < 0 && await set.MasterPortAsync() == set.Replica.Port)
            {
                promotedAt = (int)outage.ElapsedMilliseconds;
            }

            if (promotedAt >= 0 && reply.Status == RedisCallStatus.Ok && reply.Resp[0] == (byte)':')
            {
                break;
            }

            Assert.True(outage.Elapsed < TimeSpan.FromSeconds(40), $"no write succeeded on the new master (promoted at {promotedAt} ms)");
            await Task.Delay(100, Ct);
        }

        // Counted again within seconds of the promotion.
        Assert.True(outage.ElapsedMilliseconds - promotedAt < 10_000, $"writes resumed {outage.ElapsedMilliseconds - promotedAt} ms after the promotion");
        Assert.StartsWith("$", await set.Replica.CommandAsync("GET", "ha:after"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsOnlyServer_VerifiedAgainstTheConfiguredCa_WithAClientCertificate()
    {
        using var ca = TestCertificateAuthority.Create();
        await using var server = await RedisProcess.StartAsync(tls: true, sentinel: false,
            "--tls-cert-file", ca.ServerCertFile, "--tls-key-file", ca.ServerKeyFile, "--tls-ca-cert-file", ca.CaFile, "--tls-auth-clients", "yes");
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [
                new RedisTargetOptions { Name = "tls", Endpoints = [server.Endpoint], TimeoutMs = 2000, ConnectTimeoutMs = 2000,
                    Tls = new RedisTlsOptions { Enabled = true, CaFile = ca.CaFile, CertFile = ca.ClientCertFile, KeyFile = ca.ClientKeyFile, ServerName = "localhost" } },
                new RedisTargetOptions { Name = "plain", Endpoints = [server.Endpoint], TimeoutMs = 300, ConnectTimeoutMs = 500 },
            ], [], logs);
        Assert.Empty(await registry.CheckAsync(Ct));
        Assert.True(await RedisWarmUp.UntilOkAsync(registry.FindRedis("tls")!));
        Assert.Equal("+PONG\r\n"u8.ToArray(), (await registry.FindRedis("tls")!.CallAsync(RawRedisClient.Command("PING"), 0)).Resp);
        // Without TLS the server is unreachable: calls fail fast, nothing hangs.
        Assert.Equal(RedisCallStatus.NetworkError, (await registry.FindRedis("plain")!.CallAsync(RawRedisClient.Command("PING"), 0)).Status);
    }

    [Fact]
    public async Task AclUserOfAPlugin_CannotReadOtherKeys_EvenFromAScript()
    {
        await using var server = await RedisProcess.StartAsync();
        const string Password = "rl-acl-secret-5e1d";
        Assert.StartsWith("+OK", await server.CommandAsync("ACL", "SETUSER", "rl", "on", ">" + Password, "~rl:*", "+@all"), StringComparison.Ordinal);
        await server.CommandAsync("SET", "secret:api-key", "tenant-a");
        using var directory = new TempFolder("gw-acl-");
        string passwordFile = directory.PathOf("password");
        await File.WriteAllTextAsync(passwordFile, Password + "\n", Ct);
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "shared", Endpoints = [server.Endpoint], TimeoutMs = 2000, ConnectTimeoutMs = 2000,
                Plugins = new Dictionary<string, RedisPluginAccessOptions>
                {
                    ["limiter"] = new() { User = "rl", PasswordFile = passwordFile },
                    ["intruder"] = new() { User = "rl", Password = "wrong-password-77c2" },
                } }], [], logs);
        Assert.Empty(await registry.CheckAsync(Ct));
        var target = registry.FindRedis("shared")!;
        Assert.True(await RedisWarmUp.UntilOkAsync(target));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        RedisReply own;
        while ((own = await target.CallAsync(RawRedisClient.Command("SET", "rl:a", "1"), 0, plugin: "limiter")).Status != RedisCallStatus.Ok
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Equal("+OK\r\n"u8.ToArray(), own.Resp);
        var direct = await target.CallAsync(RawRedisClient.Command("GET", "secret:api-key"), 0, plugin: "limiter");
        Assert.StartsWith("-NOPERM", System.Text.Encoding.ASCII.GetString(direct.Resp), StringComparison.Ordinal);
        // Scripts run for a plugin with its own user, and Redis holds them to the user's key patterns.
        var viaScript = await target.CallAsync(RawRedisClient.Command("EVAL", "return redis.call('GET', 'secret:api-key')", "0"), 0, plugin: "limiter");
        Assert.Equal(RedisCallStatus.Ok, viaScript.Status);
        Assert.StartsWith("-", System.Text.Encoding.ASCII.GetString(viaScript.Resp), StringComparison.Ordinal);
        Assert.DoesNotContain("tenant-a", System.Text.Encoding.ASCII.GetString(viaScript.Resp), StringComparison.Ordinal);
        // Another plugin on the target's own connection is not affected.
        Assert.Equal("$8\r\ntenant-a\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("GET", "secret:api-key"), 0, plugin: "other")).Resp);

        // A wrong password: calls fail, one log line names the target, no secret is logged.
        for (int i = 0; i < 2; i++)
        {
            var refused = await target.CallAsync(RawRedisClient.Command("GET", "rl:a"), 0, plugin: "intruder");
            Assert.True(refused.Status == RedisCallStatus.NetworkError, System.Text.Encoding.ASCII.GetString(refused.Resp));
        }
        Assert.Single(logs.Lines, l => l.Contains("shared (plugin intruder)", StringComparison.Ordinal));
        Assert.DoesNotContain("wrong-password-77c2", logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, logs.AllText, StringComparison.Ordinal);
    }
}
