using Gateway.Functional.Tests.FirstPartyPlugins;
using Gateway.Testing;
using Gateway.Testing.Redis;

namespace Gateway.Functional.Tests.Plugins;

/// <summary>
/// A hostile plugin and a victim plugin share one Redis target in a real gateway process: whatever the hostile one
/// sends, the victim gets its own replies and Redis keeps its data. The query travels in the x-resp header ('~' for
/// CRLF) to the behaviors test plugin, which passes it to proxy_redis_call byte for byte.
/// </summary>
public sealed class RedisPolicyTests
{
    private static string Behaviors => RepoPaths.TestModule("behaviors");

    private static string Config(string upstream, RedisProcess redis) => $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "backend": { "endpoints": ["{{upstream}}"] } },
          "routes": [
            { "name": "hostile", "match": { "pathPrefix": "/hostile" }, "cluster": "backend", "plugins": ["hostile"] },
            { "name": "victim", "match": { "pathPrefix": "/victim" }, "cluster": "backend", "plugins": ["victim"] }
          ],
          "plugins": {
            "hostile": { "module": "{{Behaviors}}", "configuration": "redis_raw cache", "limits": { "cpuMillisecondsPerCall": 1000 } },
            "victim": { "module": "{{Behaviors}}", "configuration": "redis_raw cache", "limits": { "cpuMillisecondsPerCall": 1000 } }
          },
          "redis": { "cache": { "endpoints": ["{{redis.Endpoint}}"], "timeoutMs": 2000 } }
        }
        """;

    private static async Task<string?> RedisHeaderAsync(GatewayProcess gateway, string path, string resp, TestUpstream upstream)
    {
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get(path, extra: $"x-resp: {resp}\r\n"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        return received.Header("x-redis");
    }

    [Fact]
    public async Task HostileCommands_AreRefused_AndTheVictimAlwaysGetsItsOwnReply()
    {
        await using var redis = await RedisProcess.StartAsync();
        await redis.CommandAsync("SET", "victim:key", "victim-value");
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, redis));
        const string VictimGet = "*2~$3~GET~$10~victim:key~";
        const string VictimReply = "0:$12~~victim-value"; // CR and LF each become ~
        Assert.Equal(VictimReply, await RedisHeaderAsync(gateway, "/victim", VictimGet, upstream));
        string connectionsBefore = await redis.CommandAsync("INFO", "stats");

        // REPLCONF ACK gets no reply from Redis: on a shared pipelined connection every later caller would have
        // received the previous caller's reply. Refused (BAD_ARGUMENT = 2) before any socket.
        Assert.Equal("dispatch failed 2", await RedisHeaderAsync(gateway, "/hostile", "*3~$8~REPLCONF~$3~ACK~$1~0~", upstream));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(VictimReply, await RedisHeaderAsync(gateway, "/victim", VictimGet, upstream));
        }

        // A script that empties Redis is not listed for the plugin: refused, the data stays.
        Assert.Equal("dispatch failed 2",
            await RedisHeaderAsync(gateway, "/hostile", "*3~$4~EVAL~$29~return redis.call('FLUSHALL')~$1~0~", upstream));
        Assert.Equal("dispatch failed 2", await RedisHeaderAsync(gateway, "/hostile", "*1~$8~FLUSHALL~", upstream));

        // A leading zero would make Redis close the connection every plugin shares: refused before it is sent.
        Assert.Equal("dispatch failed 2", await RedisHeaderAsync(gateway, "/hostile", "*1~$04~PING~", upstream));
        Assert.Equal("dispatch failed 2", await RedisHeaderAsync(gateway, "/hostile", "*1~$4~PING~*1~$4~PING~", upstream));
        Assert.Equal(VictimReply, await RedisHeaderAsync(gateway, "/victim", VictimGet, upstream));
        Assert.StartsWith("$12", await redis.CommandAsync("GET", "victim:key"), StringComparison.Ordinal);
        // No connection was opened or lost meanwhile (the test's own GET and INFO opened two): the gateway's
        // connection was never touched by the refusals.
        Assert.Equal(Counter(connectionsBefore, "total_connections_received") + 2,
            Counter(await redis.CommandAsync("INFO", "stats"), "total_connections_received"));

        string logs = gateway.Output;
        Assert.Contains("plugin hostile sent REPLCONF", logs, StringComparison.Ordinal);
        Assert.Contains("EVAL 0602318aae32acfcc8425701de027a440970423c", logs, StringComparison.Ordinal);
    }

    private static long Counter(string info, string name)
    {
        foreach (string line in info.Split("\r\n"))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"{name} not in INFO");
    }
}
