using Gateway.Backends.Redis;

namespace Gateway.Backends.Tests;

/// <summary>
/// The <c>?db=N</c> a Higress plugin appends to the cluster name in <c>proxy_redis_init</c>: honoured only for a
/// database the target lists in <c>allowedDatabases</c>; 0 means the target's own database.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisDatabaseChoiceTests(RedisServer server)
{
    private const string Plugin = "higress";

    [Fact]
    public async Task AllowedDatabase_IsReadAndWrittenByTheCall_AndZeroMeansTheTargetsOwn()
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "dbs", Endpoints = [server.Endpoint], Database = 2, AllowedDatabases = [5], TimeoutMs = 2000 }], [], logs);
        // As the gateway does at start: a call made before the first connection is proven fails at once.
        Assert.Empty(await registry.CheckAsync(TestContext.Current.CancellationToken));
        var target = registry.FindRedis("dbs")!;
        var client = target.ForPlugin(Plugin);
        using var raw = await server.ConnectAsync();
        try
        {
            // A key written in database 5 by another client is what the plugin reads with ?db=5.
            await raw.SendAsync("SELECT", "5");
            await raw.SendAsync("SET", "dbq:seeded", "in-five");
            Assert.True(target.TryChooseDatabase("buffer_flush_timeout=3&db=5", Plugin, out int five));
            Assert.Equal(5, five);
            var read = await client.CallAsync(client.Admit(RawRedisClient.Command("GET", "dbq:seeded"))!, 0, five);
            Assert.Equal(RedisCallStatus.Ok, read.Status);
            Assert.Equal("$7\r\nin-five\r\n"u8.ToArray(), read.Resp);

            // And what it writes there lands in database 5, not in the target's database 2.
            var write = await client.CallAsync(client.Admit(RawRedisClient.Command("SET", "dbq:written", "five"))!, 0, five);
            Assert.Equal("+OK\r\n"u8.ToArray(), write.Resp);
            Assert.Equal("$4\r\nfive\r\n"u8.ToArray(), await raw.SendAsync("GET", "dbq:written"));
            await raw.SendAsync("SELECT", "2");
            Assert.Equal("$-1\r\n"u8.ToArray(), await raw.SendAsync("GET", "dbq:written"));

            // ?db=0 is what Higress's wrapper sends by default: the target's own database (2), not Redis's database 0.
            Assert.True(target.TryChooseDatabase("db=0", Plugin, out int zero));
            var own = await client.CallAsync(client.Admit(RawRedisClient.Command("SET", "dbq:zero", "two"))!, 0, zero);
            Assert.Equal("+OK\r\n"u8.ToArray(), own.Resp);
            Assert.Equal("$3\r\ntwo\r\n"u8.ToArray(), await raw.SendAsync("GET", "dbq:zero"));
            await raw.SendAsync("SELECT", "0");
            Assert.Equal("$-1\r\n"u8.ToArray(), await raw.SendAsync("GET", "dbq:zero"));
            Assert.DoesNotContain(logs.Lines, l => l.Contains("refused", StringComparison.Ordinal));
        }
        finally
        {
            await raw.SendAsync("SELECT", "5");
            await raw.SendAsync("DEL", "dbq:seeded", "dbq:written");
            await raw.SendAsync("SELECT", "2");
            await raw.SendAsync("DEL", "dbq:zero");
        }
    }

    [Theory]
    [InlineData("db=7")]                          // a database the target does not allow
    [InlineData("buffer_flush_timeout=3&db=1")]
    [InlineData("db=x")]
    [InlineData("db=-5")]
    [InlineData("db=")]
    public async Task DatabaseNotAllowed_IsBadArgument_WithOneLogLine(string query)
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "dbs", Endpoints = [server.Endpoint], Database = 2, AllowedDatabases = [5] }], [], logs);
        var target = registry.FindRedis("dbs")!;
        Assert.False(target.TryChooseDatabase(query, Plugin, out _));
        var line = Assert.Single(logs.Lines);
        Assert.Contains("dbs", line, StringComparison.Ordinal);
        Assert.Contains(Plugin, line, StringComparison.Ordinal);
        Assert.Contains("allowedDatabases", line, StringComparison.Ordinal);
    }
}
