using System.Text.Json.Nodes;
using Gateway.Testing;
using Gateway.Testing.Sql;

namespace Gateway.Smoke.Tests;

/// <summary>
/// Both SQL providers through the published Native AOT binary: whatever the drivers would need at run
/// time that trimming removed (column metadata, typed readers, the connection-opened callback) shows
/// up here, not in the JIT-run suites.
/// </summary>
public sealed class SqlProvidersAotTests
{
    public SqlProvidersAotTests()
    {
        Assert.True(File.Exists(RepoPaths.AotBinary), $"{RepoPaths.AotBinary} is missing: run `make publish` first");
    }

    [Fact]
    public async Task MariaDb_ApiKeyAndEveryColumnKind_ThroughTheAotBinary()
    {
        await using var db = await MariaDbServer.StartAsync();
        await db.SqlAsync("""
            CREATE TABLE api_keys (key_hash CHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, plan VARCHAR(32) NOT NULL, revoked BOOL NOT NULL DEFAULT FALSE);
            INSERT INTO api_keys VALUES (SHA2('key-acme', 256), 'acme', 'gold', FALSE);
            CREATE TABLE typed (b TINYINT(1), u BIGINT UNSIGNED, d DECIMAL(20,4), ts TIMESTAMP(3) NULL, tm TIME, bl BLOB, f FLOAT);
            INSERT INTO typed VALUES (TRUE, 18446744073709551615, 12.3400, '2024-05-01 12:34:56.789', '-01:02:03', x'00ff', 1.1);
            """);
        var databases = Database("mysql", db.ConnectionString, db.Password, new JsonObject
        {
            ["find_api_key"] = "SELECT tenant, plan FROM api_keys WHERE key_hash = ? AND NOT revoked",
            ["typed"] = "SELECT b, u, d, ts, tm, bl, f FROM typed WHERE b = ?",
        });
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream, databases), aot: true);

        var known = await GetAsync(gateway.Port, "/key", "x-api-key: key-acme");
        Assert.Equal(200, known.Status);
        Assert.Equal("acme", Assert.Single(upstream.Requests).Header("x-tenant"));
        Assert.Equal(401, (await GetAsync(gateway.Port, "/key", "x-api-key: key-unknown")).Status);

        var echo = await GetAsync(gateway.Port, "/echo", "x-echo-sql: typed", "x-echo-sql-params: b:1");
        Assert.Equal(200, echo.Status);
        var result = JsonNode.Parse(echo.BodyText)!;
        Assert.Equal(0, (int?)result["status"]);
        Assert.Equal("[{\"name\":\"b\",\"tag\":1},{\"name\":\"u\",\"tag\":0},{\"name\":\"d\",\"tag\":4},{\"name\":\"ts\",\"tag\":4},{\"name\":\"tm\",\"tag\":4},{\"name\":\"bl\",\"tag\":5},{\"name\":\"f\",\"tag\":3}]",
            result["columns"]!.ToJsonString());
        Assert.Equal("[[true,\"18446744073709551615\",\"12.3400\",\"2024-05-01T12:34:56.789Z\",\"-01:02:03\",{\"hex\":\"00ff\"},{\"f\":1.1}]]",
            result["cells"]!.ToJsonString());
    }

    [Fact]
    public async Task Postgres_ApiKey_ThroughTheAotBinary()
    {
        await using var pg = await PostgresServer.StartAsync();
        await pg.SqlAsync($"""
            CREATE TABLE api_keys (key_hash text PRIMARY KEY, tenant text NOT NULL, plan text NOT NULL, revoked boolean NOT NULL DEFAULT false);
            ALTER TABLE api_keys OWNER TO {pg.User};
            INSERT INTO api_keys VALUES (encode(sha256('key-acme'), 'hex'), 'acme', 'gold', false);
            CREATE TABLE typed (b boolean); ALTER TABLE typed OWNER TO {pg.User};
            """);
        var databases = Database("postgresql", pg.ConnectionString, pg.Password, new JsonObject
        {
            ["find_api_key"] = "SELECT tenant, plan FROM api_keys WHERE key_hash = $1 AND NOT revoked",
            ["typed"] = "SELECT b FROM typed WHERE b = $1",
        });
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream, databases), aot: true);

        Assert.Equal(200, (await GetAsync(gateway.Port, "/key", "x-api-key: key-acme")).Status);
        Assert.Equal("acme", Assert.Single(upstream.Requests).Header("x-tenant"));
        Assert.Equal(401, (await GetAsync(gateway.Port, "/key", "x-api-key: key-unknown")).Status);
    }

    private static JsonObject Database(string provider, string connectionString, string password, JsonObject statements) => new()
    {
        ["accounts"] = new JsonObject
        {
            ["provider"] = provider,
            ["connectionString"] = connectionString,
            ["password"] = password,
            ["timeoutMs"] = 2000,
            ["statements"] = statements,
        },
    };

    /// <summary>/key through api_key, /echo through ext_echo, both on database "accounts".</summary>
    private static string Config(TestUpstream upstream, JsonObject databases) => new JsonObject
    {
        ["workers"] = 1,
        ["listeners"] = new JsonArray(new JsonObject { ["name"] = "public", ["address"] = "127.0.0.1", ["port"] = 0 }),
        ["admin"] = new JsonObject { ["address"] = "127.0.0.1", ["port"] = 0 },
        ["clusters"] = new JsonObject { ["backend"] = new JsonObject { ["endpoints"] = new JsonArray(JsonValue.Create(upstream.Endpoint)) } },
        ["routes"] = new JsonArray(
            Route("key", "/key", "api-key"),
            Route("echo", "/echo", "echo")),
        ["plugins"] = new JsonObject
        {
            ["api-key"] = Plugin("api_key", "api_key", new JsonObject
            {
                ["database"] = "accounts",
                ["statement"] = "find_api_key",
                ["header"] = "x-api-key",
                ["tenantHeader"] = "x-tenant",
                ["failurePolicy"] = "closed",
            }),
            ["echo"] = Plugin("ext_echo", "ext_echo", new JsonObject { ["database"] = "accounts" }),
        },
        ["databases"] = databases,
    }.ToJsonString();

    private static JsonObject Route(string name, string prefix, string plugin) => new()
    {
        ["name"] = name,
        ["match"] = new JsonObject { ["host"] = "*", ["pathPrefix"] = prefix },
        ["cluster"] = "backend",
        ["plugins"] = new JsonArray(JsonValue.Create(plugin)),
    };

    private static JsonObject Plugin(string module, string rootId, JsonObject configuration) => new()
    {
        ["module"] = Path.Combine(RepoPaths.PluginsDir, module + ".wasm"),
        ["rootId"] = rootId,
        ["configuration"] = configuration,
        ["failurePolicy"] = "closed",
    };

    private static async Task<ClientResponse> GetAsync(int port, string path, params string[] headers)
    {
        using var client = new RawClient(port);
        await client.SendAsync(RawClient.Get(path, "a.test", string.Concat(headers.Select(h => h + "\r\n"))));
        return await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(20)) ?? throw new IOException("no response");
    }
}
