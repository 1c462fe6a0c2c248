using System.Text.Json.Nodes;
using Gateway.Testing;
using Gateway.Testing.Redis;
using Gateway.Testing.Sql;
using static Gateway.Functional.Tests.FirstPartyPlugins.PluginGateway;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// The SDK's encoders and decoders end to end: ext_echo.wasm sends raw Redis commands and SQL calls
/// with every parameter type through the gateway to real servers and reports what it decoded.
/// </summary>
public sealed class ExtEchoPluginTests
{
    private static async Task<GatewayProcess> StartAsync(TestUpstream upstream, RedisProcess? redis, PostgresServer? pg)
    {
        var databases = new JsonObject();
        if (pg is not null)
        {
            // the gateway prepares every statement at start, so their tables must exist
            await pg.SqlAsync($"CREATE TABLE notes(id int PRIMARY KEY, body text); ALTER TABLE notes OWNER TO {pg.User};");
            databases["accounts"] = new JsonObject
            {
                ["provider"] = "postgresql",
                ["connectionString"] = pg.ConnectionString,
                ["password"] = pg.Password,
                ["timeoutMs"] = 5000,
                ["statements"] = new JsonObject
                {
                    ["all_types"] = "SELECT $1::text AS t, $2::bigint AS i, $3::float8 AS f, $4::boolean AS b, $5::bytea AS y, $6::text AS n",
                    ["insert_note"] = "INSERT INTO notes(id, body) VALUES ($1, $2)",
                },
            };
        }
        var redisTargets = new JsonObject();
        if (redis is not null)
        {
            redisTargets["cache"] = RedisTarget(redis, 5000);
        }
        var plugin = Plugin("ext_echo", new JsonObject { ["redis"] = "cache", ["database"] = "accounts" }, rootId: "ext_echo");
        return await GatewayProcess.StartAsync(Config(1, upstream, new JsonObject { ["echo"] = plugin }, ["echo"], redisTargets, databases));
    }

    private static async Task<JsonNode> EchoAsync(GatewayProcess gateway, params string[] headers)
    {
        ClientResponse response = await GetAsync(gateway.Port, headers);
        Assert.Equal(200, response.Status);
        return JsonNode.Parse(response.BodyText)!;
    }

    [Fact]
    public async Task RedisCommands_EveryReplyTypeDecoded()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(upstream, redis, pg: null);

        Assert.Equal("OK", (string?)(await EchoAsync(gateway, "x-echo-redis: SET greeting hello"))["reply"]!["simple"]);
        Assert.Equal("hello", (string?)(await EchoAsync(gateway, "x-echo-redis: GET greeting"))["reply"]);
        Assert.Null((await EchoAsync(gateway, "x-echo-redis: GET missing"))["reply"]);
        Assert.Equal(3, (long?)(await EchoAsync(gateway, "x-echo-redis: RPUSH list a b c"))["reply"]);
        Assert.Equal("[\"a\",\"b\",\"c\"]", (await EchoAsync(gateway, "x-echo-redis: LRANGE list 0 -1"))["reply"]!.ToJsonString());
        Assert.StartsWith("WRONGTYPE", (string?)(await EchoAsync(gateway, "x-echo-redis: GET list"))["reply"]!["error"], StringComparison.Ordinal);
        Assert.Equal("$5\r\nhello\r\n", await redis.CommandAsync("GET", "greeting"));
    }

    [Fact]
    public async Task SqlCall_EveryParameterAndResultTypeRoundTrips()
    {
        await using var pg = await PostgresServer.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(upstream, redis: null, pg);

        JsonNode result = await EchoAsync(gateway, "x-echo-sql: all_types", "x-echo-sql-params: t:hello,i:-9007199254740993,f:1.5,b:1,y:00ff10,n:");

        Assert.Equal(0, (int?)result["status"]);
        Assert.Equal(1, (int?)result["rows"]);
        Assert.Equal("[{\"name\":\"t\",\"tag\":4},{\"name\":\"i\",\"tag\":2},{\"name\":\"f\",\"tag\":3},{\"name\":\"b\",\"tag\":1},{\"name\":\"y\",\"tag\":5},{\"name\":\"n\",\"tag\":4}]",
            result["columns"]!.ToJsonString());
        Assert.Equal("[[\"hello\",{\"i\":\"-9007199254740993\"},{\"f\":1.5},true,{\"hex\":\"00ff10\"},null]]",
            result["cells"]!.ToJsonString());
    }

    [Fact]
    public async Task SqlCall_WriteReportsRowsAffected_AndDatabaseErrorsReachThePlugin()
    {
        await using var pg = await PostgresServer.StartAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await StartAsync(upstream, redis: null, pg);

        JsonNode insert = await EchoAsync(gateway, "x-echo-sql: insert_note", "x-echo-sql-params: i:1,t:first");
        JsonNode duplicate = await EchoAsync(gateway, "x-echo-sql: insert_note", "x-echo-sql-params: i:1,t:second");

        Assert.Equal(0, (int?)insert["status"]);
        Assert.Equal(1, (int?)insert["rowsAffected"]);
        Assert.Equal("first", await pg.SqlAsync("SELECT body FROM notes"));
        Assert.Equal(4, (int?)duplicate["status"]); // BACKEND_ERROR: constraint violation (docs/proxy-wasm.md, 'The SQL extension')
        Assert.Contains("23505", (string?)duplicate["detail"], StringComparison.Ordinal); // unique_violation
    }
}
