using Gateway.Backends.Redis;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

public sealed class BackendRegistryTests
{
    [Fact]
    public async Task ConfigurationProblems_AreAllListedWithTheirKeyPaths()
    {
        var missing = Path.Combine(Path.GetTempPath(), "gw-missing-" + Guid.NewGuid().ToString("N"), "password");
        await using var registry = BackendRegistry.Create(
            [
                new RedisTargetOptions { Name = "a", Endpoints = [$"127.0.0.1:{FreePort.Next()}"], PasswordFile = missing, ConnectTimeoutMs = 100, Aliases = ["shared"] },
                new RedisTargetOptions { Name = "b", Endpoints = ["127.0.0.1:notaport"], ConnectTimeoutMs = 100, Aliases = ["shared"] },
            ],
            [new DatabaseOptions { Name = "db", ConnectionString = $"Host=127.0.0.1;Port={FreePort.Next()};Username=u", PasswordFile = missing }],
            NullLoggerFactory.Instance);

        var problems = await registry.CheckAsync(TestContext.Current.CancellationToken);

        Assert.Contains(problems, p => p.StartsWith("redis.a.passwordFile:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("redis.b.endpoints:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("redis.b.aliases: 'shared'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("databases.db.passwordFile:", StringComparison.Ordinal));
        Assert.Equal(4, problems.Count);
        Assert.Equal(RedisCallStatus.NetworkError, (await registry.FindRedis("b")!.CallAsync(RawRedisClient.Command("PING"), 0)).Status);
    }
}
