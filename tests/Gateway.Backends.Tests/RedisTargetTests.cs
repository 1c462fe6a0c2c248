using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

[Collection(RedisCollection.Name)]
public sealed class RedisTargetTests(RedisServer server) : IAsyncLifetime
{
    private BackendRegistry _registry = null!;
    private RedisTarget _target = null!;

    public async ValueTask InitializeAsync()
    {
        _registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "default", Endpoints = [server.Endpoint], TimeoutMs = 2000, Aliases = ["outbound|6379||redis.default.svc.cluster.local"] }],
            [], NullLoggerFactory.Instance);
        Assert.Empty(await _registry.CheckAsync(TestContext.Current.CancellationToken));
        _target = _registry.FindRedis("default")!;
    }

    public ValueTask DisposeAsync() => _registry.DisposeAsync();

    [Fact]
    public async Task EveryReplyType_IsReturnedByteForByteAsRedisSendsIt()
    {
        using var raw = await server.ConnectAsync();
        var binary = new byte[] { 0, 1, 13, 10, 255, (byte)'$', (byte)'*' };
        await raw.SendRawAsync(RawRedisClient.Command("SET"u8.ToArray(), "rt:bin"u8.ToArray(), binary));
        await raw.SendAsync("DEL", "rt:list", "rt:hash", "rt:missing", "rt:empty");
        await raw.SendAsync("RPUSH", "rt:list", "a", "", "ccc");
        await raw.SendAsync("HSET", "rt:hash", "f", "v");
        await raw.SendAsync("SET", "rt:str", "text");

        string[][] commands =
        [
            ["PING"],                                                  // +PONG
            ["GET", "rt:str"],                                         // $4 text
            ["GET", "rt:missing"],                                     // $-1
            ["STRLEN", "rt:str"],                                      // :4
            ["LRANGE", "rt:list", "0", "-1"],                          // array with an empty bulk string
            ["LRANGE", "rt:empty", "0", "-1"],                         // *0
            ["LPOP", "rt:missing", "2"],                               // *-1 (RESP2 nil array)
            ["HGETALL", "rt:hash"],
            ["INCR", "rt:str"],                                        // -ERR value is not an integer
            ["NOSUCHCOMMAND", "x"],                                    // -ERR unknown command
            ["EVALSHA", "0000000000000000000000000000000000000000", "0"], // -NOSCRIPT, which the rate limiters act on
            ["EVAL", "return {1, 'two', {3, {false}}, redis.status_reply('FINE'), -7}", "0"],
            ["EVAL", "return redis.error_reply('MYERR custom failure')", "0"],
            ["EVAL", "return false", "0"],                             // $-1 from Lua
            ["SCRIPT", "LOAD", "return 1"],
            ["ECHO", "ünïcödé"],
        ];
        foreach (var command in commands)
        {
            var query = RawRedisClient.Command(command);
            var expected = await raw.SendRawAsync(query);
            var reply = await _target.CallAsync(query, 0);
            Assert.Equal(RedisCallStatus.Ok, reply.Status);
            Assert.True(expected.AsSpan().SequenceEqual(reply.Resp),
                $"{string.Join(' ', command)}: expected {Printable(expected)} got {Printable(reply.Resp)}");
        }

        var binaryReply = await _target.CallAsync(RawRedisClient.Command("GET", "rt:bin"), 0);
        Assert.Equal([.. "$7\r\n"u8, .. binary, .. "\r\n"u8], binaryReply.Resp);
    }

    [Fact]
    public async Task Integers_AreEncodedAsRespIntegers()
    {
        using var raw = await server.ConnectAsync();
        await raw.SendAsync("SET", "rt:counter", "41");
        var reply = await _target.CallAsync(RawRedisClient.Command("INCR", "rt:counter"), 0);
        Assert.Equal(":42\r\n"u8.ToArray(), reply.Resp);
        reply = await _target.CallAsync(RawRedisClient.Command("DECRBY", "rt:counter", "100"), 0);
        Assert.Equal(":-58\r\n"u8.ToArray(), reply.Resp);
    }

    [Theory]
    [InlineData("PING\r\n")]                                       // inline command
    [InlineData("")]
    [InlineData("*0\r\n")]
    [InlineData("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n")]       // pipelined
    [InlineData("*2\r\n$3\r\nGET\r\n")]                            // truncated
    [InlineData("*1\r\n$5\r\nPING\r\n")]                           // wrong length
    [InlineData("*1\r\n$4\r\nPINGxx")]                             // missing CRLF
    [InlineData("*1\r\n:4\r\n")]                                   // not a bulk string
    [InlineData("*-1\r\n")]
    [InlineData("*1\r\n$-1\r\n")]
    [InlineData("*+1\r\n$4\r\nPING\r\n")]
    [InlineData("*1\r\n$4\r\nPING\r\ntrailing")]
    public async Task MalformedResp_IsRejectedAndNeverSent(string query)
    {
        var bytes = Encoding.ASCII.GetBytes(query);
        Assert.False(_target.IsValidCommand(bytes, out var error));
        Assert.False(string.IsNullOrEmpty(error));
        var reply = await _target.CallAsync(bytes, 0);
        Assert.Equal(RedisCallStatus.NetworkError, reply.Status);
        Assert.Empty(reply.Resp);
    }

    [Theory]
    [InlineData("AUTH", "x")]
    [InlineData("auth", "user", "x")]
    [InlineData("HELLO", "3")]
    [InlineData("select", "1")]
    [InlineData("CONFIG", "GET", "*")]
    [InlineData("FLUSHALL")]
    [InlineData("FlushDb")]
    [InlineData("SHUTDOWN")]
    [InlineData("MONITOR")]
    [InlineData("SUBSCRIBE", "c")]
    [InlineData("PSUBSCRIBE", "c*")]
    [InlineData("SSUBSCRIBE", "c")]
    [InlineData("CLIENT", "KILL", "TYPE", "normal")]
    [InlineData("MULTI")]
    [InlineData("WATCH", "k")]
    [InlineData("QUIT")]
    [InlineData("RESET")]
    [InlineData("DEBUG", "SLEEP", "1")]
    [InlineData("SCRIPT", "FLUSH")]
    [InlineData("SCRIPT", "KILL")]
    [InlineData("BLPOP", "k", "0")]
    [InlineData("XREAD", "BLOCK", "0", "STREAMS", "s", "$")]
    [InlineData("ACL", "SETUSER", "x")]
    public async Task DeniedCommand_IsRejectedAndNeverSent(params string[] command)
    {
        var query = RawRedisClient.Command(command);
        Assert.False(_target.IsValidCommand(query, out _));
        Assert.Equal(RedisCallStatus.NetworkError, (await _target.CallAsync(query, 0)).Status);
    }

    [Theory]
    [InlineData("EVAL", "return 1", "0")]
    [InlineData("evalsha", "0000000000000000000000000000000000000000", "0")]
    [InlineData("SCRIPT", "LOAD", "return 1")]
    [InlineData("SCRIPT", "EXISTS", "0000000000000000000000000000000000000000")]
    [InlineData("GET", "k")]
    [InlineData("XREAD", "COUNT", "1", "STREAMS", "s", "0")]
    public void AllowedCommand_IsValid(params string[] command)
    {
        Assert.True(_target.IsValidCommand(RawRedisClient.Command(command), out var error), error);
    }

    [Fact]
    public async Task SlowServer_CallTimesOutNearTheRequestedTimeout()
    {
        // DEBUG SLEEP on another connection blocks the whole (single-threaded) server.
        using var blocker = await server.ConnectAsync();
        var sleeping = blocker.SendAsync("DEBUG", "SLEEP", "0.6");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var watch = Stopwatch.StartNew();
        var reply = await _target.CallAsync(RawRedisClient.Command("GET", "rt:str"), 40);
        watch.Stop();
        await sleeping;

        Assert.Equal(RedisCallStatus.NetworkError, reply.Status);
        Assert.Empty(reply.Resp);
        Assert.InRange(watch.ElapsedMilliseconds, 38, 200);
        // The connection survives the abandoned call: the late GET reply is dropped, the next call gets its own.
        var next = await _target.CallAsync(RawRedisClient.Command("PING"), 0);
        Assert.Equal(RedisCallStatus.Ok, next.Status);
        Assert.Equal("+PONG\r\n"u8.ToArray(), next.Resp);
    }

    [Fact]
    public async Task ServerSilentPastTheStallLimit_ConnectionReplaced_AndCallsWorkAfter()
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "stall", Endpoints = [server.Endpoint], TimeoutMs = 100 }], [], logs);
        Assert.Empty(await registry.CheckAsync(TestContext.Current.CancellationToken));
        var target = registry.FindRedis("stall")!;
        Assert.True(await RedisWarmUp.UntilOkAsync(target));

        // Silent for longer than max(1 s, 4 × timeout): the call times out, then the connection is presumed dead.
        using var blocker = await server.ConnectAsync();
        var sleeping = blocker.SendAsync("DEBUG", "SLEEP", "1.8");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(RedisCallStatus.NetworkError, (await target.CallAsync(RawRedisClient.Command("PING"), 0)).Status);
        await sleeping;

        Assert.Contains("connection lost", logs.AllText);
        Assert.True(await RedisWarmUp.UntilOkAsync(target), "no call succeeded on the replacement connection");
        Assert.Equal("+PONG\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("PING"), 0)).Resp);
    }

    [Fact]
    public async Task TimeoutAboveConfiguredMaximum_IsClampedToIt()
    {
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "short", Endpoints = [server.Endpoint], TimeoutMs = 60 }], [], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(TestContext.Current.CancellationToken));
        var target = registry.FindRedis("short")!;
        await RedisWarmUp.UntilOkAsync(target);
        using var blocker = await server.ConnectAsync();
        var sleeping = blocker.SendAsync("DEBUG", "SLEEP", "0.6");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var watch = Stopwatch.StartNew();
        var reply = await target.CallAsync(RawRedisClient.Command("PING"), 10_000);
        watch.Stop();
        await sleeping;
        Assert.Equal(RedisCallStatus.NetworkError, reply.Status);
        Assert.InRange(watch.ElapsedMilliseconds, 55, 250);
    }

    [Fact]
    public async Task ThousandConcurrentCalls_AllComplete()
    {
        var calls = new Task<RedisReply>[1000];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = _target.CallAsync(RawRedisClient.Command("INCR", "rt:concurrent"), 0);
        }

        var replies = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.All(replies, r => Assert.Equal(RedisCallStatus.Ok, r.Status));
        var values = replies.Select(r => long.Parse(Encoding.ASCII.GetString(r.Resp)[1..^2])).ToHashSet();
        Assert.Equal(1000, values.Count);
        using var raw = await server.ConnectAsync();
        await raw.SendAsync("DEL", "rt:concurrent");
    }

    [Fact]
    public async Task ConfiguredDatabase_IsSelectedByTheGateway()
    {
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "db3", Endpoints = [server.Endpoint], Database = 3, TimeoutMs = 2000 }], [], NullLoggerFactory.Instance);
        var reply = await registry.FindRedis("db3")!.CallAsync(RawRedisClient.Command("SET", "rt:db", "three"), 0);
        Assert.Equal("+OK\r\n"u8.ToArray(), reply.Resp);

        using var raw = await server.ConnectAsync();
        Assert.Equal("$-1\r\n"u8.ToArray(), await raw.SendAsync("GET", "rt:db"));
        await raw.SendAsync("SELECT", "3");
        Assert.Equal("$5\r\nthree\r\n"u8.ToArray(), await raw.SendAsync("GET", "rt:db"));
        await raw.SendAsync("DEL", "rt:db");
    }

    [Fact]
    public async Task GatewayConnections_SpeakResp2()
    {
        Assert.Equal(RedisCallStatus.Ok, (await _target.CallAsync(RawRedisClient.Command("PING"), 0)).Status);
        using var raw = await server.ConnectAsync();
        var clients = Encoding.UTF8.GetString(await raw.SendAsync("CLIENT", "LIST"));
        var ours = clients.Split('\n').Where(line => line.Contains(" name=gateway ")).ToArray();
        Assert.NotEmpty(ours);
        Assert.All(ours, line => Assert.Matches(@"\bresp=2\b", line));
    }

    [Fact]
    public void FindRedis_ResolvesAliasesAndIgnoresHigressOptionSuffix()
    {
        Assert.Same(_target, _registry.FindRedis("outbound|6379||redis.default.svc.cluster.local"));
        Assert.Same(_target, _registry.FindRedis("outbound|6379||redis.default.svc.cluster.local?db=0&buffer_flush_timeout=3&max_buffer_size_before_flush=1024"));
        Assert.Same(_target, _registry.FindRedis("default?db=1"));
        Assert.Null(_registry.FindRedis("other"));
        Assert.Null(_registry.FindRedis("defaul"));
    }

    [Fact]
    public async Task Metrics_CountCallsByStatusWithLatencyAndBreakerState()
    {
        await _target.CallAsync(RawRedisClient.Command("PING"), 0);
        await _target.CallAsync(RawRedisClient.Command("NOSUCHCOMMAND"), 0);
        var text = new StringBuilder();
        _registry.WritePrometheus(text);
        var metrics = text.ToString();
        Assert.Contains("gateway_redis_calls_total{target=\"default\",status=\"ok\"} 1\n", metrics);
        Assert.Contains("gateway_redis_calls_total{target=\"default\",status=\"error_reply\"} 1\n", metrics);
        Assert.Contains("gateway_redis_call_duration_seconds_count{target=\"default\"} 2\n", metrics);
        Assert.Contains("gateway_redis_call_duration_seconds_bucket{target=\"default\",le=\"+Inf\"} 2\n", metrics);
        Assert.Contains("gateway_redis_circuit_state{target=\"default\"} 0\n", metrics);
    }

    private static string Printable(byte[] bytes) => Encoding.UTF8.GetString(bytes).Replace("\r", "\\r").Replace("\n", "\\n");
}
