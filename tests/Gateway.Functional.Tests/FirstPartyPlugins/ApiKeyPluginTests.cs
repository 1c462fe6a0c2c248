using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Testing;
using Gateway.Testing.Sql;
using static Gateway.Functional.Tests.FirstPartyPlugins.PluginGateway;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// api_key.wasm in a real gateway against a real PostgreSQL table of key hashes. The table stores
/// PostgreSQL's own sha256 of each key, so every accepted key also proves the plugin's SHA-256.
/// </summary>
public sealed class ApiKeyPluginTests
{
    private const string MetacharacterKey = "k'; DROP TABLE api_keys; --";

    private static async Task<PostgresServer> StartDatabaseAsync()
    {
        var pg = await PostgresServer.StartAsync();
        await pg.SqlAsync($"""
            CREATE TABLE api_keys (key_hash text PRIMARY KEY, tenant text NOT NULL, plan text NOT NULL,
                                   revoked boolean NOT NULL DEFAULT false);
            ALTER TABLE api_keys OWNER TO {pg.User};
            INSERT INTO api_keys VALUES
              ({Hash("key-acme")}, 'acme', 'gold', false),
              ({Hash("key-revoked")}, 'globex', 'silver', true),
              ({Hash(MetacharacterKey)}, 'initech', 'free', false);
            """);
        return pg;
    }

    // The hex SHA-256 as PostgreSQL computes it; dollar quoting keeps the key literal.
    private static string Hash(string key) => $"encode(sha256(convert_to($k${key}$k$, 'UTF8')), 'hex')";

    // Generous: the JIT-run gateway's first lookup compiles the database client on the way.
    private static JsonObject Databases(PostgresServer pg, int timeoutMs = 5000) => new()
    {
        ["accounts"] = new JsonObject
        {
            ["provider"] = "postgresql",
            ["connectionString"] = pg.ConnectionString,
            ["password"] = pg.Password,
            ["timeoutMs"] = timeoutMs,
            ["statements"] = new JsonObject
            {
                ["find_api_key"] = "SELECT tenant, plan FROM api_keys WHERE key_hash = $1 AND NOT revoked",
            },
        },
    };

    private static JsonObject ApiKey(string failurePolicy = "closed", int negativeTtl = 5) => Plugin("api_key", new JsonObject
    {
        ["database"] = "accounts",
        ["statement"] = "find_api_key",
        ["header"] = "x-api-key",
        ["tenantHeader"] = "x-tenant",
        ["planHeader"] = "x-plan",
        ["cacheTtlSeconds"] = 30,
        ["negativeCacheTtlSeconds"] = negativeTtl,
        ["failurePolicy"] = failurePolicy,
    }, rootId: "api_key");

    private static Task<GatewayProcess> StartGatewayAsync(TestUpstream upstream, PostgresServer pg, JsonObject plugin) =>
        GatewayProcess.StartAsync(Config(2, upstream, new JsonObject { ["api-key"] = plugin }, ["api-key"], databases: Databases(pg)));

    [Fact]
    public async Task ValidKey_ReachesUpstreamWithTenantAndPlanAndWithoutTheKey()
    {
        await using var pg = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await StartGatewayAsync(upstream, pg, ApiKey());

        ClientResponse response = await GetAsync(gateway.Port, "x-api-key: key-acme", "x-tenant: spoofed", "x-plan: platinum");

        Assert.Equal(200, response.Status);
        ReceivedRequest seen = Assert.Single(upstream.Requests);
        Assert.Equal("acme", seen.Header("x-tenant"));
        Assert.Equal("gold", seen.Header("x-plan"));
        Assert.Null(seen.Header("x-api-key"));
        Assert.DoesNotContain("spoofed", seen.Head, StringComparison.Ordinal);
        Assert.DoesNotContain("platinum", seen.Head, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x-api-key: no-such-key")]
    [InlineData("x-api-key: key-revoked")]
    [InlineData("x-other: key-acme")]
    public async Task UnknownRevokedOrMissingKey_401WithJsonError(string header)
    {
        await using var pg = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await StartGatewayAsync(upstream, pg, ApiKey());

        ClientResponse response = await GetAsync(gateway.Port, header);

        Assert.Equal(401, response.Status);
        Assert.Equal("application/json", response.Header("content-type"));
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(response.Body).RootElement.GetProperty("error").ValueKind);
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task KeysWithSqlMetacharacters_AreOnlyKeys()
    {
        await using var pg = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await StartGatewayAsync(upstream, pg, ApiKey());

        Assert.Equal(401, (await GetAsync(gateway.Port, "x-api-key: ' OR '1'='1")).Status);
        Assert.Equal(401, (await GetAsync(gateway.Port, "x-api-key: x\\'; DELETE FROM api_keys; --")).Status);
        ClientResponse valid = await GetAsync(gateway.Port, "x-api-key: " + MetacharacterKey);

        Assert.Equal(200, valid.Status);
        Assert.Equal("initech", Assert.Single(upstream.Requests).Header("x-tenant"));
        Assert.Equal("3", await pg.SqlAsync("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task DatabaseStopped_UncachedKey503Fast_CachedKeyStillAdmitted()
    {
        await using var pg = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(
            Config(1, upstream, new JsonObject { ["api-key"] = ApiKey() }, ["api-key"], databases: Databases(pg)));
        Assert.Equal(200, (await GetAsync(gateway.Port, "x-api-key: key-acme")).Status);

        await pg.StopAsync();
        var (unavailable, elapsed) = await TimedGetAsync(gateway.Port, "x-api-key: key-never-seen");
        ClientResponse cached = await GetAsync(gateway.Port, "x-api-key: key-acme");

        Assert.Equal(503, unavailable.Status);
        Assert.Equal("application/json", unavailable.Header("content-type"));
        // fast: a refused connection fails the call at once, well before the 5 s timeout
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"503 took {elapsed.TotalMilliseconds} ms");
        Assert.Equal(200, cached.Status);
        Assert.Equal(2, upstream.Requests.Count);
    }

    [Fact]
    public async Task DatabaseStopped_FailOpen_ContinuesWithoutIdentity()
    {
        await using var pg = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        await using var gateway = await StartGatewayAsync(upstream, pg, ApiKey(failurePolicy: "open"));

        await pg.StopAsync();
        ClientResponse response = await GetAsync(gateway.Port, "x-api-key: key-acme", "x-tenant: spoofed");

        Assert.Equal(200, response.Status);
        ReceivedRequest seen = Assert.Single(upstream.Requests);
        Assert.Null(seen.Header("x-tenant"));
        Assert.Null(seen.Header("x-api-key"));
    }

    [Fact]
    public async Task UnknownKey_IsCachedForTheNegativeTtlOnly()
    {
        await using var pg = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        // one worker: the cache is per VM
        await using var gateway = await GatewayProcess.StartAsync(
            Config(1, upstream, new JsonObject { ["api-key"] = ApiKey(negativeTtl: 3) }, ["api-key"], databases: Databases(pg)));
        Assert.Equal(401, (await GetAsync(gateway.Port, "x-api-key: key-new")).Status);

        await pg.SqlAsync($"INSERT INTO api_keys VALUES ({Hash("key-new")}, 'hooli', 'gold', false)");
        Assert.Equal(401, (await GetAsync(gateway.Port, "x-api-key: key-new")).Status);
        await Task.Delay(TimeSpan.FromSeconds(3.5), TestContext.Current.CancellationToken);

        Assert.Equal(200, (await GetAsync(gateway.Port, "x-api-key: key-new")).Status);
        Assert.Equal("hooli", Assert.Single(upstream.Requests).Header("x-tenant"));
    }

    /// <summary>
    /// A reload that rebuilds the database opens its kept connections as a start does, before any request needs one.
    /// The database it replaces keeps its own for the calls still running there, so the server sees both sets.
    /// </summary>
    [Fact]
    public async Task DatabaseRebuiltByReload_OpensItsKeptConnectionsWithoutARequest()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var pg = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        JsonObject databases = Databases(pg);
        databases["accounts"]!["minPoolSize"] = 2;
        await using var gateway = await GatewayProcess.StartAsync(
            Config(1, upstream, new JsonObject { ["api-key"] = ApiKey() }, ["api-key"], databases: databases));
        Assert.True(await Eventually.HoldsAsync(async () => await pg.ConnectionsAsync() == 2, ct), $"{await pg.ConnectionsAsync()} connections after start");

        databases = Databases(pg, timeoutMs: 4000);
        databases["accounts"]!["minPoolSize"] = 3;
        await File.WriteAllTextAsync(gateway.ConfigPath,
            Config(1, upstream, new JsonObject { ["api-key"] = ApiKey() }, ["api-key"], databases: databases), ct);

        Assert.True(await Eventually.HoldsAsync(async () => await pg.ConnectionsAsync() == 5, ct), $"{await pg.ConnectionsAsync()} connections after the reload");
        Assert.Contains("gateway_config_reloads_total{result=\"applied\"} 1", await gateway.AdminGetAsync("/metrics"));
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task PasswordFileRotated_NewConnectionsUseTheNewPassword()
    {
        await using var pg = await StartDatabaseAsync();
        await pg.SqlAsync($"INSERT INTO api_keys VALUES ({Hash("key-2")}, 't2', 'p'), ({Hash("key-3")}, 't3', 'p'), ({Hash("key-4")}, 't4', 'p')");
        // Declared before the gateway, so it is deleted after the gateway has exited.
        using var secrets = new TempFolder("gateway-secret-");
        string passwordFile = secrets.PathOf("password");
        await File.WriteAllTextAsync(passwordFile, pg.Password, TestContext.Current.CancellationToken);
        JsonObject databases = Databases(pg);
        databases["accounts"]!.AsObject().Remove("password");
        databases["accounts"]!["passwordFile"] = passwordFile;
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(
            Config(1, upstream, new JsonObject { ["api-key"] = ApiKey() }, ["api-key"], databases: databases));
        Assert.Equal(200, (await GetAsync(gateway.Port, "x-api-key: key-acme")).Status);

        // The role's password changes and its sessions end: the old password no longer opens a connection ...
        await pg.SqlAsync($"ALTER ROLE {pg.User} PASSWORD 'rotated-password'");
        await pg.SqlAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{pg.User}'");
        Assert.Equal(503, (await GetAsync(gateway.Port, "x-api-key: key-2")).Status);
        Assert.Equal(503, (await GetAsync(gateway.Port, "x-api-key: key-3")).Status);

        // ... and once the mounted secret holds the new one, lookups succeed again without a restart.
        await File.WriteAllTextAsync(passwordFile, "rotated-password", TestContext.Current.CancellationToken);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        ClientResponse response;
        do
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
            response = await GetAsync(gateway.Port, "x-api-key: key-4");
        }
        while (response.Status != 200 && DateTime.UtcNow < deadline);
        Assert.Equal(200, response.Status);
        Assert.Equal("t4", upstream.Requests.Last().Header("x-tenant"));
    }

    [Fact]
    public async Task ApiKeyThenRateLimit_LimitsEachTenantByTheHeaderApiKeySet()
    {
        await using var pg = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        var plugins = new JsonObject
        {
            ["api-key"] = ApiKey(),
            ["rate-limit"] = Plugin("rate_limit", new JsonObject
            {
                ["mode"] = "local",
                ["key"] = new JsonObject { ["source"] = "header", ["name"] = "x-tenant" },
                ["limits"] = new JsonArray(new JsonObject { ["name"] = "day", ["limit"] = 2, ["windowSeconds"] = 86400 }),
            }),
        };
        await using var gateway = await GatewayProcess.StartAsync(
            Config(2, upstream, plugins, ["api-key", "rate-limit"], databases: Databases(pg)));

        Assert.Equal(200, (await GetAsync(gateway.Port, "x-api-key: key-acme")).Status);
        // a client-supplied x-tenant is replaced before rate_limit reads it
        Assert.Equal(200, (await GetAsync(gateway.Port, "x-api-key: key-acme", "x-tenant: someone-else")).Status);
        Assert.Equal(429, (await GetAsync(gateway.Port, "x-api-key: key-acme")).Status);
        Assert.Equal(200, (await GetAsync(gateway.Port, "x-api-key: " + MetacharacterKey)).Status);
    }
}
