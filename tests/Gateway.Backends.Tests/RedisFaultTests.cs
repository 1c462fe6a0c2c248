using System.Diagnostics;
using System.Text;
using Gateway.Backends.Redis;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

[Collection(RedisFaultCollection.Name)]
public sealed class RedisFaultTests(RedisServer server)
{
    // A script that keeps the server busy for 2.5 s: longer than the password file poll interval.
    private const string Busy = "local s = redis.call('TIME') while true do local n = redis.call('TIME') " +
        "if (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 2500000 then break end end return 'survived'";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ServerStopped_FailsFastOpensBreaker_AndRecoversAfterRestartWithoutNewRegistry()
    {
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "faulty", Endpoints = [server.Endpoint], TimeoutMs = 300, ConnectTimeoutMs = 300,
                CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 3, OpenMs = 400 } }],
            [], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(Ct));
        var target = registry.FindRedis("faulty")!;
        Assert.True(await RedisWarmUp.UntilOkAsync(target));

        await server.StopAsync();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var watch = Stopwatch.StartNew();
                var reply = await target.CallAsync(RawRedisClient.Command("PING"), 0);
                Assert.Equal(RedisCallStatus.NetworkError, reply.Status);
                Assert.Empty(reply.Resp);
                // Bounded by the call's own 300 ms deadline (with room for a loaded machine), well before the
                // client's backup timeout of 2 s.
                Assert.True(watch.ElapsedMilliseconds <= 1500, $"call {i} took {watch.ElapsedMilliseconds} ms");
            }

            // Open: rejected without touching the network.
            var rejected = target.CallAsync(RawRedisClient.Command("PING"), 0);
            Assert.True(rejected.IsCompleted, "an open breaker answers before the call returns");
            Assert.Equal(RedisCallStatus.NetworkError, (await rejected).Status);
            var metrics = new StringBuilder();
            registry.WritePrometheus(metrics);
            Assert.Contains("gateway_redis_circuit_state{target=\"faulty\",plugin=\"test\"} 1\n", metrics.ToString());
            Assert.Contains("gateway_redis_calls_total{target=\"faulty\",status=\"circuit_open\"} 1\n", metrics.ToString());
        }
        finally
        {
            await server.StartAsync();
        }

        // The connection is re-established in the background; the half-open probe then closes the breaker.
        Assert.True(await RedisWarmUp.UntilOkAsync(target, seconds: 20), "no successful call within 20 s of the restart");
        var after = new StringBuilder();
        registry.WritePrometheus(after);
        Assert.Contains("gateway_redis_circuit_state{target=\"faulty\",plugin=\"test\"} 0\n", after.ToString());
    }

    [Fact]
    public async Task UnreachableAtStart_IsOnlyAWarning_AndCallsFailFast()
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "nowhere", Endpoints = [$"127.0.0.1:{FreePort.Next()}"], TimeoutMs = 200, ConnectTimeoutMs = 200 }],
            [], logs);
        Assert.Empty(await registry.CheckAsync(Ct));
        var watch = Stopwatch.StartNew();
        Assert.Equal(RedisCallStatus.NetworkError, (await registry.FindRedis("nowhere")!.CallAsync(RawRedisClient.Command("PING"), 0)).Status);
        // Bounded by the call's 200 ms deadline (with room for a loaded machine), not the client's 2 s backup timeout.
        Assert.True(watch.ElapsedMilliseconds <= 900, $"took {watch.ElapsedMilliseconds} ms");
        Assert.Contains("nowhere", logs.AllText);
    }

    [Theory]
    [InlineData("Redis-Wrong-Secret-5e9a")]
    [InlineData(null)]
    public async Task WrongOrMissingPassword_FailsEveryCall_AndIsLoggedOnceWithTheTargetName(string? configured)
    {
        const string required = "Redis-Right-Secret-0c3f";
        using var admin = await server.ConnectAsync();
        Assert.Equal("+OK\r\n"u8.ToArray(), await admin.SendAsync("CONFIG", "SET", "requirepass", required));
        var logs = new CapturingLoggerFactory();
        try
        {
            await using var registry = BackendRegistry.Create(
                [new RedisTargetOptions { Name = "mis-keyed", Endpoints = [server.Endpoint], Password = configured, TimeoutMs = 500,
                    CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 100, OpenMs = 100 } }],
                [], logs);
            await registry.CheckAsync(Ct);
            var target = registry.FindRedis("mis-keyed")!;
            for (var i = 0; i < 5; i++)
            {
                // Never a NOAUTH error reply handed to the plugin as if Redis had answered its command.
                var reply = await target.CallAsync(RawRedisClient.Command("GET", "k"), 0);
                Assert.Equal(RedisCallStatus.NetworkError, reply.Status);
                Assert.Empty(reply.Resp);
            }

            // On a loaded machine the first attempt can give up before Redis says why; the cause comes with a retry.
            await logs.WaitForAsync("AuthenticationFailure", TimeSpan.FromSeconds(15), Ct);
        }
        finally
        {
            await admin.SendAsync("CONFIG", "SET", "requirepass", "");
        }

        var refusals = logs.Lines.Where(line => line.Contains("AuthenticationFailure", StringComparison.Ordinal)).ToList();
        Assert.True(refusals.Count == 1, logs.AllText);
        Assert.Contains("mis-keyed", refusals[0]);
        Assert.DoesNotContain(required, logs.AllText);
        if (configured is not null)
        {
            Assert.DoesNotContain(configured, logs.AllText);
        }
    }

    [Fact]
    public async Task PasswordFileRotated_NewConnectionsUseNewPassword_AndNoSecretIsLogged()
    {
        const string oldPassword = "Redis-Old-Secret-8d1e";
        const string newPassword = "Redis-New-Secret-4b7c";
        using var directory = new TempFolder("gw-secret-");
        var passwordFile = directory.PathOf("password");
        await File.WriteAllTextAsync(passwordFile, oldPassword + "\n", Ct);
        using var admin = await server.ConnectAsync();
        Assert.Equal("+OK\r\n"u8.ToArray(), await admin.SendAsync("CONFIG", "SET", "requirepass", oldPassword));
        var logs = new CapturingLoggerFactory();
        try
        {
            await using var registry = BackendRegistry.Create(
                [new RedisTargetOptions { Name = "secured", Endpoints = [server.Endpoint], PasswordFile = passwordFile, TimeoutMs = 500,
                    CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 3, OpenMs = 100 } }],
                [], logs);
            Assert.Empty(await registry.CheckAsync(Ct));
            var target = registry.FindRedis("secured")!;
            Assert.True(await RedisWarmUp.UntilOkAsync(target));
            Assert.Equal("+OK\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("SET", "rot:k", "v1"), 0)).Resp);

            // Rotate: the secret store writes the file, the server changes its password, old sessions are dropped.
            await File.WriteAllTextAsync(passwordFile, newPassword, Ct);
            Assert.Equal("+OK\r\n"u8.ToArray(), await admin.SendAsync("CONFIG", "SET", "requirepass", newPassword));
            await admin.SendAsync("CLIENT", "KILL", "TYPE", "normal");
            Assert.True(await RedisWarmUp.UntilOkAsync(target), "no successful call within 10 s of the rotation");
            Assert.Equal("$2\r\nv1\r\n"u8.ToArray(), (await target.CallAsync(RawRedisClient.Command("GET", "rot:k"), 0)).Resp);

            // Every connection made from now on authenticates with the new password.
            await admin.SendAsync("CLIENT", "KILL", "TYPE", "normal");
            Assert.True(await RedisWarmUp.UntilOkAsync(target), "no reconnection with the rotated password");
            Assert.Contains("password file changed", logs.AllText);
        }
        finally
        {
            await admin.SendAsync("CONFIG", "SET", "requirepass", "");
        }

        Assert.DoesNotContain(oldPassword, logs.AllText);
        Assert.DoesNotContain(newPassword, logs.AllText);
    }

    [Fact]
    public async Task PasswordRotatedDuringACall_TheInFlightCallCompletesOnTheOldConnection()
    {
        const string oldPassword = "Redis-Old-Secret-1a2b";
        const string newPassword = "Redis-New-Secret-3c4d";
        using var directory = new TempFolder("gw-secret-");
        var passwordFile = directory.PathOf("password");
        await File.WriteAllTextAsync(passwordFile, oldPassword, Ct);
        using var admin = await server.ConnectAsync();
        await admin.SendAsync("CONFIG", "SET", "requirepass", oldPassword);
        var logs = new CapturingLoggerFactory();
        try
        {
            await using var registry = BackendRegistry.Create(
                [new RedisTargetOptions { Name = "busy", Endpoints = [server.Endpoint], PasswordFile = passwordFile, TimeoutMs = 8000, MaxTimeoutMs = 8000,
                    Plugins = new Dictionary<string, RedisPluginAccessOptions> { [RedisTargetCalls.Plugin] = new() { Scripts = [RedisTargetCalls.Sha1(Busy)] } } }], [], logs);
            Assert.Empty(await registry.CheckAsync(Ct));
            var target = registry.FindRedis("busy")!;
            Assert.True(await RedisWarmUp.UntilOkAsync(target));

            // The server accepts the new password for new sessions; the target's session stays authenticated.
            await admin.SendAsync("CONFIG", "SET", "requirepass", newPassword);
            var inFlight = target.CallAsync(RawRedisClient.Command("EVAL", Busy, "0"), 0);
            await Task.Delay(100, Ct);
            await File.WriteAllTextAsync(passwordFile, newPassword, Ct);
            await logs.WaitForAsync("password file changed", TimeSpan.FromSeconds(2), Ct);
            Assert.Contains("password file changed", logs.AllText);
            Assert.False(inFlight.IsCompleted, "the rotation should have happened while the call was in flight");

            var reply = await inFlight;
            Assert.Equal(RedisCallStatus.Ok, reply.Status);
            Assert.Equal("$8\r\nsurvived\r\n"u8.ToArray(), reply.Resp);
            Assert.True(await RedisWarmUp.UntilOkAsync(target), "no call succeeded on the new connection");
        }
        finally
        {
            await admin.SendAsync("AUTH", newPassword);
            await admin.SendAsync("CONFIG", "SET", "requirepass", "");
        }
    }
}
