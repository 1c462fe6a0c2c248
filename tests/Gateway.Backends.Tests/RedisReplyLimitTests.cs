using System.Text;
using System.Text.RegularExpressions;
using Gateway.Backends.Redis;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

/// <summary>A reply over the 64 MiB limit fails that call only: other plugins' calls on the same connection get their own replies.</summary>
[Collection(RedisCollection.Name)]
public sealed partial class RedisReplyLimitTests(RedisServer server)
{
    private const int LimitBytes = 64 * 1024 * 1024;

    [Fact]
    public async Task OversizedReply_FailsThatCallOnly_OtherPluginsKeepTheirRepliesAndTheConnection()
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "big", Endpoints = [server.Endpoint], TimeoutMs = 10_000, MaxTimeoutMs = 10_000 }], [], logs);
        Assert.Empty(await registry.CheckAsync(TestContext.Current.CancellationToken));
        var target = registry.FindRedis("big")!;
        Assert.True(await RedisWarmUp.UntilOkAsync(target));
        using var raw = await server.ConnectAsync();
        try
        {
            // SETRANGE pads with zero bytes: a value one byte over the limit without sending 64 MiB from the test.
            Assert.Equal($":{LimitBytes + 1}\r\n", Encoding.ASCII.GetString(await raw.SendAsync("SETRANGE", "rl:huge", LimitBytes.ToString(), "x")));
            await raw.SendAsync("SET", "rl:small", "mine");
            var before = GatewayConnectionIds(await raw.SendAsync("CLIENT", "LIST"));
            Assert.NotEmpty(before);

            // Sent together, so the small reply is pipelined right behind the huge one on the shared connection.
            var huge = target.CallAsync(RawRedisClient.Command("GET", "rl:huge"), 0, plugin: "greedy");
            var small = target.CallAsync(RawRedisClient.Command("GET", "rl:small"), 0, plugin: "victim");
            var replies = await Task.WhenAll(huge, small);

            Assert.Equal(RedisCallStatus.NetworkError, replies[0].Status);
            Assert.Empty(replies[0].Resp);
            Assert.Equal(RedisCallStatus.Ok, replies[1].Status);
            Assert.Equal("$4\r\nmine\r\n"u8.ToArray(), replies[1].Resp);

            // The next calls, of either plugin, get their own replies over the same connection.
            Assert.Equal("$4\r\nmine\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("GET", "rl:small"), 0, plugin: "victim")).Resp);
            Assert.Equal(":67108865\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("STRLEN", "rl:huge"), 0, plugin: "greedy")).Resp);
            Assert.Equal(before, GatewayConnectionIds(await raw.SendAsync("CLIENT", "LIST")));

            Assert.Single(logs.Lines, l => l.Contains("exceeded", StringComparison.Ordinal) && l.Contains("greedy", StringComparison.Ordinal));
            var metrics = new StringBuilder();
            registry.WritePrometheus(metrics);
            Assert.Contains("gateway_redis_calls_total{target=\"big\",status=\"reply_too_large\"} 1\n", metrics.ToString());
            // Redis was healthy: the oversized reply does not count against the greedy plugin's breaker.
            Assert.Contains("gateway_redis_circuit_state{target=\"big\",plugin=\"greedy\"} 0\n", metrics.ToString());
        }
        finally
        {
            await raw.SendAsync("DEL", "rl:huge", "rl:small");
        }
    }

    [Fact]
    public async Task ReplyAtTheLimit_IsDelivered()
    {
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "edge", Endpoints = [server.Endpoint], TimeoutMs = 10_000 }], [], NullLoggerFactory.Instance);
        var target = registry.FindRedis("edge")!;
        Assert.True(await RedisWarmUp.UntilOkAsync(target));
        using var raw = await server.ConnectAsync();
        try
        {
            // "$67108855\r\n" + value + "\r\n" is exactly the limit.
            int value = LimitBytes - 11 - 2;
            await raw.SendAsync("SETRANGE", "rl:edge", (value - 1).ToString(), "x");
            var reply = await target.CallAsync(RawRedisClient.Command("GET", "rl:edge"), 0);
            Assert.Equal(RedisCallStatus.Ok, reply.Status);
            Assert.Equal(LimitBytes, reply.Resp.Length);
        }
        finally
        {
            await raw.SendAsync("DEL", "rl:edge");
        }
    }

    private static string[] GatewayConnectionIds(byte[] clientList) =>
        [.. Encoding.UTF8.GetString(clientList).Split('\n').Where(l => l.Contains(" name=gateway", StringComparison.Ordinal))
            .Select(l => ConnectionId().Match(l).Value).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"\bid=\d+")]
    private static partial Regex ConnectionId();
}
