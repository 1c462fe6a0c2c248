using System.Text.Json.Nodes;
using Gateway.Testing;
using Gateway.Testing.Sql;
using static Gateway.Functional.Tests.FirstPartyPlugins.PluginGateway;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// The unchanged api_key.wasm against MariaDB through the <c>mysql</c> provider: only the statement
/// text differs from PostgreSQL (<c>?</c> placeholder). MariaDB's SHA2 stores the keys' hashes, so an
/// accepted key also proves the plugin's SHA-256 matches.
/// </summary>
public sealed class ApiKeyMariaDbTests
{
    private static async Task<MariaDbServer> StartDatabaseAsync()
    {
        var db = await MariaDbServer.StartAsync();
        await db.SqlAsync("""
            CREATE TABLE api_keys (key_hash CHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, plan VARCHAR(32) NOT NULL,
                                   revoked BOOL NOT NULL DEFAULT FALSE);
            INSERT INTO api_keys VALUES (SHA2('key-acme', 256), 'acme', 'gold', FALSE),
                                        (SHA2('key-revoked', 256), 'globex', 'silver', TRUE);
            """);
        return db;
    }

    private static JsonObject Databases(MariaDbServer db, int timeoutMs) => new()
    {
        ["accounts"] = new JsonObject
        {
            ["provider"] = "mysql",
            ["connectionString"] = db.ConnectionString,
            ["password"] = db.Password,
            ["timeoutMs"] = timeoutMs,
            ["statements"] = new JsonObject
            {
                ["find_api_key"] = "SELECT tenant, plan FROM api_keys WHERE key_hash = ? AND NOT revoked",
            },
        },
    };

    private static JsonObject ApiKey() => Plugin("api_key", new JsonObject
    {
        ["database"] = "accounts",
        ["statement"] = "find_api_key",
        ["header"] = "x-api-key",
        ["tenantHeader"] = "x-tenant",
        ["planHeader"] = "x-plan",
        ["cacheTtlSeconds"] = 30,
        ["negativeCacheTtlSeconds"] = 5,
        ["failurePolicy"] = "closed",
    }, rootId: "api_key");

    [Fact]
    public async Task KnownKey_TenantUpstream_UnknownKey401_DatabaseStopped503WithinTheTimeout()
    {
        await using var db = await StartDatabaseAsync();
        await using var upstream = new TestUpstream();
        // Generous for the JIT-run gateway's first lookup; the outage must still answer well inside it.
        const int TimeoutMs = 3000;
        await using var gateway = await GatewayProcess.StartAsync(
            Config(1, upstream, new JsonObject { ["api-key"] = ApiKey() }, ["api-key"], databases: Databases(db, TimeoutMs)));

        ClientResponse known = await GetAsync(gateway.Port, "x-api-key: key-acme", "x-tenant: spoofed");
        Assert.Equal(200, known.Status);
        ReceivedRequest seen = Assert.Single(upstream.Requests);
        Assert.Equal("acme", seen.Header("x-tenant"));
        Assert.Equal("gold", seen.Header("x-plan"));
        Assert.Null(seen.Header("x-api-key"));

        Assert.Equal(401, (await GetAsync(gateway.Port, "x-api-key: no-such-key")).Status);
        Assert.Equal(401, (await GetAsync(gateway.Port, "x-api-key: key-revoked")).Status);
        Assert.Equal(401, (await GetAsync(gateway.Port, "x-api-key: ' OR '1'='1")).Status);
        Assert.Single(upstream.Requests);

        await db.StopAsync();
        var (unavailable, elapsed) = await TimedGetAsync(gateway.Port, "x-api-key: key-never-seen");
        Assert.Equal(503, unavailable.Status);
        Assert.True(elapsed < TimeSpan.FromMilliseconds(TimeoutMs), $"503 took {elapsed.TotalMilliseconds} ms");
        // The key seen before is still admitted from the plugin's cache.
        Assert.Equal(200, (await GetAsync(gateway.Port, "x-api-key: key-acme")).Status);
    }
}
