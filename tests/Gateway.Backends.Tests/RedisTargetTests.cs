using System.Diagnostics;
using System.Text;
using Gateway.Backends.Redis;
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
            [new RedisTargetOptions { Name = "default", Endpoints = [server.Endpoint], TimeoutMs = 2000, Aliases = ["outbound|6379||redis.default.svc.cluster.local"],
                Plugins = RedisTargetCalls.OwnIdentity }],
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
    [InlineData("*1\r\n$04\r\nPING\r\n")]                         // leading zero: Redis would close the connection
    [InlineData("*01\r\n$4\r\nPING\r\n")]
    [InlineData("*1\r\n$00\r\n\r\n")]
    [InlineData("*1\r\n$ 4\r\nPING\r\n")]
    [InlineData("*1\r\n$-0\r\nPING\r\n")]
    [InlineData("*2\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n")]        // no numkeys
    [InlineData("*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n1\r\n")] // numkeys beyond the arguments
    [InlineData("*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$2\r\n-1\r\n")]
    public async Task MalformedResp_IsRefusedBeforeAnySocket(string query)
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "strict", Endpoints = [server.Endpoint], Plugins = RedisTargetCalls.OwnIdentity }], [], logs);
        var client = registry.FindRedis("strict")!.ForPlugin(RedisTargetCalls.Plugin);
        Assert.Null(client.Admit(Encoding.ASCII.GetBytes(query)));
        Assert.Null(client.Admit(Encoding.ASCII.GetBytes(query)));
        // Once per plugin, not once per call.
        Assert.Single(logs.Lines, l => l.Contains("malformed", StringComparison.Ordinal));
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
    [InlineData("REPLCONF", "ACK", "0")]
    [InlineData("KEYS", "*")]
    [InlineData("SCAN", "0")]
    [InlineData("RANDOMKEY")]
    [InlineData("COPY", "a", "b", "DB", "1")]
    [InlineData("MOVE", "a", "1")]
    [InlineData("SWAPDB", "0", "1")]
    [InlineData("MIGRATE", "127.0.0.1", "1", "k", "0", "10")]
    [InlineData("RESTORE", "k", "0", "x")]
    [InlineData("SORT", "k", "GET", "*")]
    [InlineData("SLOWLOG", "GET")]
    [InlineData("FCALL", "f", "0")]
    [InlineData("NOSUCHCOMMAND")]
    public async Task DeniedCommand_IsRefused_AndLoggedOncePerPluginAndCommand(params string[] command)
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create([new RedisTargetOptions { Name = "policy", Endpoints = [server.Endpoint] }], [], logs);
        var target = registry.FindRedis("policy")!;
        var query = RawRedisClient.Command(command);
        Assert.Null(target.ForPlugin("one").Admit(query));
        Assert.Null(target.ForPlugin("one").Admit(query));
        Assert.Null(target.ForPlugin("two").Admit(query));
        var lines = logs.Lines.Where(l => l.Contains("refused", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Contains(lines, l => l.Contains("one", StringComparison.Ordinal) && l.Contains(command[0].ToUpperInvariant(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Script_IsRefusedUnlessItsShaIsListed_AndTheLogGivesTheShaToList()
    {
        const string script = "return redis.call('FLUSHALL')";
        string sha = RedisTargetCalls.Sha1(script);
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "scripts", Endpoints = [server.Endpoint],
                Plugins = new Dictionary<string, RedisPluginAccessOptions> { ["listed"] = new() { Scripts = [sha.ToUpperInvariant()] } } }], [], logs);
        var target = registry.FindRedis("scripts")!;
        Assert.Null(target.ForPlugin("unlisted").Admit(RawRedisClient.Command("EVAL", script, "0")));
        Assert.Null(target.ForPlugin("unlisted").Admit(RawRedisClient.Command("EVALSHA", sha, "0")));
        Assert.Contains(logs.Lines, l => l.Contains(sha, StringComparison.Ordinal) && l.Contains("unlisted", StringComparison.Ordinal));
        Assert.NotNull(target.ForPlugin("listed").Admit(RawRedisClient.Command("EVAL", script, "0")));
        Assert.NotNull(target.ForPlugin("listed").Admit(RawRedisClient.Command("evalsha", sha, "0")));
        Assert.Null(target.ForPlugin("listed").Admit(RawRedisClient.Command("EVAL", "return 2", "0")));
    }

    [Fact]
    public async Task AllowCommands_WidensThePolicyForThatPluginOnly()
    {
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "wide", Endpoints = [server.Endpoint],
                Plugins = new Dictionary<string, RedisPluginAccessOptions> { ["scanner"] = new() { AllowCommands = ["scan"] } } }], [], new CapturingLoggerFactory());
        var target = registry.FindRedis("wide")!;
        Assert.NotNull(target.ForPlugin("scanner").Admit(RawRedisClient.Command("SCAN", "0")));
        Assert.Null(target.ForPlugin("other").Admit(RawRedisClient.Command("SCAN", "0")));
        Assert.False(RedisPolicyRules.CanBeAllowed("replconf"));
        Assert.True(RedisPolicyRules.CanBeAllowed("SCAN"));
    }

    [Theory]
    [InlineData("EVAL", "return 1", "0")]
    [InlineData("evalsha", "0000000000000000000000000000000000000000", "0")]
    [InlineData("SCRIPT", "LOAD", "return 1")]
    [InlineData("SCRIPT", "EXISTS", "0000000000000000000000000000000000000000")]
    [InlineData("GET", "k")]
    [InlineData("COPY", "a", "b", "REPLACE")]
    [InlineData("MSET", "a", "1", "b", "2")]
    [InlineData("TIME")]
    public void AllowedCommand_IsAdmitted(params string[] command)
    {
        Assert.NotNull(_target.ForPlugin(RedisTargetCalls.Plugin).Admit(RawRedisClient.Command(command)));
    }

    [Fact]
    public async Task SlowServer_CallTimesOutNearTheRequestedTimeout()
    {
        // DEBUG SLEEP on another connection blocks the whole (single-threaded) server.
        using var blocker = await server.ConnectAsync();
        var sleeping = blocker.SendAsync("DEBUG", "SLEEP", "1.5");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var watch = Stopwatch.StartNew();
        var reply = await _target.CallAsync(RawRedisClient.Command("GET", "rt:str"), 40);
        watch.Stop();
        await sleeping;

        Assert.Equal(RedisCallStatus.NetworkError, reply.Status);
        Assert.Empty(reply.Resp);
        // Near 40 ms, with room for a loaded machine; Redis itself answers only after 1.5 s. (A longer stall, tried with
        // a wider bound, left the connection still recovering for the call below.)
        Assert.InRange(watch.ElapsedMilliseconds, 38, 1000);
        // The connection survives the abandoned call: the late GET reply is dropped, the next call gets its own.
        var next = await _target.CallAsync(RawRedisClient.Command("PING"), 0);
        Assert.Equal(RedisCallStatus.Ok, next.Status);
        Assert.Equal("+PONG\r\n"u8.ToArray(), next.Resp);
    }

    [Fact]
    public async Task ServerSilentForSeconds_CallsTimeOut_AndWorkAgainAfter()
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "stall", Endpoints = [server.Endpoint], TimeoutMs = 100 }], [], logs);
        Assert.Empty(await registry.CheckAsync(TestContext.Current.CancellationToken));
        var target = registry.FindRedis("stall")!;
        Assert.True(await RedisWarmUp.UntilOkAsync(target));

        // Silent for far longer than the call's timeout: the call times out on time, later calls work.
        using var blocker = await server.ConnectAsync();
        var sleeping = blocker.SendAsync("DEBUG", "SLEEP", "1.8");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(RedisCallStatus.NetworkError, (await target.CallAsync(RawRedisClient.Command("PING"), 0)).Status);
        await sleeping;

        Assert.True(await RedisWarmUp.UntilOkAsync(target), "no call succeeded after the stall");
        Assert.Equal("+PONG\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("PING"), 0)).Resp);
    }

    [Fact]
    public async Task TimeoutAboveConfiguredMaximum_IsClampedToIt()
    {
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "short", Endpoints = [server.Endpoint], TimeoutMs = 30, MaxTimeoutMs = 60 }], [], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(TestContext.Current.CancellationToken));
        var target = registry.FindRedis("short")!;
        await RedisWarmUp.UntilOkAsync(target);
        using var blocker = await server.ConnectAsync();
        var sleeping = blocker.SendAsync("DEBUG", "SLEEP", "4");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var watch = Stopwatch.StartNew();
        var reply = await target.CallAsync(RawRedisClient.Command("PING"), 10_000);
        watch.Stop();
        await sleeping;
        Assert.Equal(RedisCallStatus.NetworkError, reply.Status);
        // Near the 60 ms maximum, with room for a loaded machine (a late timer, not the reply); Redis itself answers only after 4 s.
        Assert.InRange(watch.ElapsedMilliseconds, 55, 3000);
    }

    [Fact]
    public async Task OnePluginsTimeoutStorm_OpensOnlyItsOwnBreaker()
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "shared", Endpoints = [server.Endpoint], TimeoutMs = 20,
                CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 3, OpenMs = 60_000 } }], [], logs);
        Assert.Empty(await registry.CheckAsync(TestContext.Current.CancellationToken));
        var target = registry.FindRedis("shared")!;
        await RedisWarmUp.UntilOkAsync(target);
        using var blocker = await server.ConnectAsync();
        var sleeping = blocker.SendAsync("DEBUG", "SLEEP", "0.3");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(RedisCallStatus.NetworkError, (await target.CallAsync(RawRedisClient.Command("GET", "storm"), 5, plugin: "storm")).Status);
        }
        await sleeping;
        // The storm's breaker is open (it fails at once without a socket); the other plugin is unaffected.
        var refused = target.CallAsync(RawRedisClient.Command("GET", "storm"), 0, plugin: "storm");
        Assert.True(refused.IsCompleted, "an open breaker answers before the call returns");
        Assert.Equal(RedisCallStatus.NetworkError, (await refused).Status);
        Assert.Equal(RedisCallStatus.Ok, (await target.CallAsync(RawRedisClient.Command("GET", "calm"), 0, plugin: "calm")).Status);
        var text = new StringBuilder();
        registry.WritePrometheus(text);
        Assert.Contains("gateway_redis_circuit_state{target=\"shared\",plugin=\"storm\"} 1\n", text.ToString());
        Assert.Contains("gateway_redis_circuit_state{target=\"shared\",plugin=\"calm\"} 0\n", text.ToString());
        Assert.Contains(logs.Lines, l => l.Contains("for plugin storm opened", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TimeoutUpToTheMaximum_IsHonoured_NotCutToTheDefault()
    {
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "patient", Endpoints = [server.Endpoint], TimeoutMs = 30, MaxTimeoutMs = 2000 }], [], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(TestContext.Current.CancellationToken));
        var target = registry.FindRedis("patient")!;
        await RedisWarmUp.UntilOkAsync(target);
        using var blocker = await server.ConnectAsync();
        var sleeping = blocker.SendAsync("DEBUG", "SLEEP", "0.3");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var reply = await target.CallAsync(RawRedisClient.Command("PING"), 1500);
        await sleeping;
        Assert.Equal(RedisCallStatus.Ok, reply.Status);
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
        await _target.CallAsync(RawRedisClient.Command("INCRBY", "rt:metrics", "not-a-number"), 0);
        var text = new StringBuilder();
        _registry.WritePrometheus(text);
        var metrics = text.ToString();
        Assert.Contains("gateway_redis_calls_total{target=\"default\",status=\"ok\"} 1\n", metrics);
        Assert.Contains("gateway_redis_calls_total{target=\"default\",status=\"error_reply\"} 1\n", metrics);
        Assert.Contains("gateway_redis_call_duration_seconds_count{target=\"default\"} 2\n", metrics);
        Assert.Contains("gateway_redis_call_duration_seconds_bucket{target=\"default\",le=\"+Inf\"} 2\n", metrics);
        Assert.Contains("gateway_redis_circuit_state{target=\"default\",plugin=\"test\"} 0\n", metrics);
    }

    private static string Printable(byte[] bytes) => Encoding.UTF8.GetString(bytes).Replace("\r", "\\r").Replace("\n", "\\n");
}
