using Gateway.Testing;

namespace Gateway.Tests.Configuration;

public sealed class ConfigValidationTests
{
    [Fact]
    public void SixMistakes_AllSixReportedAtOnce()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load("""
            {
              "workerz": 2,
              "listeners": [{ "name": "public", "port": 70000 }],
              "clusters": { "backend": { "endpoints": ["abc"], "loadBalancing": "random" } },
              "routes": [
                { "name": "a", "cluster": "backend" },
                { "name": "b", "cluster": "x" }
              ],
              "limits": { "maxBodyBytes": 0 }
            }
            """);

        Assert.Null(result.Config);
        Assert.Equal(
            [
                "workerz: unknown key",
                "clusters.backend.loadBalancing: \"random\" is not one of: roundRobin, leastRequest",
                "listeners[0].port: 70000 is not a port (0-65535, 0 for any free port)",
                "limits.maxBodyBytes: must be positive, is 0",
                "clusters.backend.endpoints[0]: \"abc\" is not host:port",
                "routes[1].cluster: unknown cluster \"x\"",
            ],
            result.Errors);
    }

    [Theory]
    [InlineData("""{ "listeners": [{ "name": "a", "port": 1 }, { "name": "a", "port": 2 }] }""", "listeners[1].name: \"a\" is already the name of listeners[0]")]
    [InlineData("""{ "listeners": [{ "name": "a", "port": 8080 }, { "name": "b", "address": "127.0.0.1", "port": 8080 }] }""", "listeners[1].port: 8080 is already bound by listeners[0]")]
    [InlineData("""{ "listeners": [{ "name": "a", "address": "localhost", "port": 1 }] }""", "listeners[0].address: \"localhost\" is not an IP address")]
    [InlineData("""{ "listeners": [{ "name": "a", "port": -1 }] }""", "listeners[0].port: -1 is not a port (0-65535, 0 for any free port)")]
    [InlineData("""{ "listeners": [{ "name": "a", "port": 9901 }] }""", "admin.port: 9901 is already bound by listeners[0]")]
    [InlineData("""{ "listeners": [] }""", "listeners: at least one listener is required")]
    [InlineData("""{ "listeners": [{ "port": 1 }] }""", "listeners[0].name: required")]
    [InlineData("""{ "workers": -1 }""", "workers: must be between 0 (one per processor) and 1024")]
    [InlineData("""{ "limits": { "headerTimeoutMs": -5 } }""", "limits.headerTimeoutMs: must be positive, is -5")]
    [InlineData("""{ "limits": { "requestBodyTimeoutMs": 0 } }""", "limits.requestBodyTimeoutMs: must be positive, is 0")]
    [InlineData("""{ "limits": { "minRequestBodyBytesPerSecond": -1 } }""", "limits.minRequestBodyBytesPerSecond: must be positive, is -1")]
    [InlineData("""{ "limits": { "requestBodyRateWindowMs": 0 } }""", "limits.requestBodyRateWindowMs: must be positive, is 0")]
    [InlineData("""{ "limits": { "responseWriteTimeoutMs": -30000 } }""", "limits.responseWriteTimeoutMs: must be positive, is -30000")]
    [InlineData("""{ "limits": { "maxHeaderCount": 1.5 } }""", "limits.maxHeaderCount: expected an integer, found 1.5")]
    [InlineData("""{ "limits": { "maxHeaderCount": 99999999999 } }""", "limits.maxHeaderCount: 99999999999 is out of range")]
    [InlineData("""{ "limits": { "maxBodyBytes": "lots" } }""", "limits.maxBodyBytes: expected an integer, found \"lots\"")]
    [InlineData("""{ "limits": { "maxBodyBytes": null } }""", "limits.maxBodyBytes: must not be null")]
    [InlineData("""{ "limits": { "maxbodybytes": 5 } }""", "limits.maxbodybytes: unknown key (did you mean \"maxBodyBytes\"?)")]
    [InlineData("""{ "limits": [] }""", "limits: expected an object, found an array")]
    [InlineData("""{ "clusters": { "backend": { "endpoints": [] } } }""", "clusters.backend.endpoints: at least one endpoint is required")]
    [InlineData("""{ "clusters": { "backend": { } } }""", "clusters.backend.endpoints: required")]
    [InlineData("""{ "clusters": { "backend": { "endpoints": ["h:0"] } } }""", "clusters.backend.endpoints[0]: \"h:0\" is not host:port")]
    [InlineData("""{ "clusters": { "backend": { "endpoints": ["::1:80"] } } }""", "clusters.backend.endpoints[0]: \"::1:80\" is not host:port")]
    [InlineData("""{ "clusters": { "backend": { "endpoints": ["h:1"], "connectTimeoutMs": 0 } } }""", "clusters.backend.connectTimeoutMs: must be positive, is 0")]
    [InlineData("""{ "clusters": { "backend": { "endpoints": ["h:1"], "ejection": { "cooldownMs": 0 } } } }""", "clusters.backend.ejection.cooldownMs: must be positive, is 0")]
    [InlineData("""{ "routes": [{ "name": "r", "cluster": "backend", "plugins": ["nope"] }] }""", "routes[0].plugins[0]: unknown plugin \"nope\"")]
    [InlineData("""{ "routes": [{ "name": "r", "cluster": "backend", "match": { "path": "/a", "pathPrefix": "/" } }] }""", "routes[0].match.path: set either path or pathPrefix, not both")]
    [InlineData("""{ "routes": [{ "name": "r", "cluster": "backend", "match": { "pathPrefix": "api" } }] }""", "routes[0].match.pathPrefix: \"api\" does not start with '/'")]
    [InlineData("""{ "routes": [{ "name": "r", "cluster": "backend", "match": { "host": "a.*.com" } }] }""", "routes[0].match.host: \"a.*.com\" is not \"*\", a host name or \"*.\" followed by a host name")]
    [InlineData("""{ "routes": [{ "name": "r", "cluster": "backend" }, { "name": "r", "cluster": "backend" }] }""", "routes[1].name: \"r\" is already the name of routes[0]")]
    [InlineData("""{ "plugins": { "p": { "module": "absent.wasm" } } }""", "plugins.p.module: no such file \"{root}/absent.wasm\"")]
    [InlineData("""{ "plugins": { "p": { } } }""", "plugins.p.module: required")]
    [InlineData("""{ "plugins": { "p": { "module": "p.wasm", "environment": { "A=B": "1" } } } }""", "plugins.p.environment[\"A=B\"]: a variable name must be non-empty and contain neither '=' nor NUL")]
    [InlineData("""{ "plugins": { "p": { "module": "p.wasm", "environment": { "A": "1\u0000" } } } }""", "plugins.p.environment.A: the value must not contain NUL")]
    [InlineData("""{ "plugins": { "p": { "module": "p.wasm", "environment": { "A": 1 } } } }""", "plugins.p.environment.A: expected a string, found 1")]
    [InlineData("""{ "clusters": { "backend": { "endpoints": ["h:1"], "pooledIdleTimeoutMs": 0 } } }""", "clusters.backend.pooledIdleTimeoutMs: must be positive, is 0")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"], "passwordFile": "missing" } } }""", "redis.r.passwordFile: cannot read \"{root}/missing\": no such file")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"], "timeoutMs": 0 } } }""", "redis.r.timeoutMs: must be positive, is 0")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"] }, "s": { "endpoints": ["h:1"], "aliases": ["r"] } } }""", "redis.s.aliases[0]: \"r\" already names redis target \"r\"")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1", "h:2"] } } }""", "redis.r.endpoints: a standalone target has one endpoint; set topology to cluster (seeds) or sentinel (sentinels) for more")]
    [InlineData("""{ "redis": { "r": { "topology": "sentinel", "endpoints": ["h:1"] } } }""", "redis.r.sentinelService: required with topology sentinel: the master's name the sentinels monitor")]
    [InlineData("""{ "redis": { "r": { "topology": "cluster", "endpoints": ["h:1"], "database": 2 } } }""", "redis.r.database: a Redis Cluster has only database 0")]
    [InlineData("""{ "redis": { "r": { "topology": "ring", "endpoints": ["h:1"] } } }""", "redis.r.topology: \"ring\" is not one of: standalone, cluster, sentinel")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"], "allowedDatabases": [16] } } }""", "redis.r.allowedDatabases[0]: must be a database number from 0 to 15, is 16")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"], "tls": { "enabled": true, "certFile": "p.wasm" } } } }""", "redis.r.tls.keyFile: a client certificate needs both certFile and keyFile")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"], "tls": { "enabled": true, "caFile": "missing.crt" } } } }""", "redis.r.tls.caFile: cannot read \"{root}/missing.crt\": no such file")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"], "timeoutMs": 100, "maxTimeoutMs": 50 } } }""", "redis.r.maxTimeoutMs: must be at least timeoutMs (100), is 50")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"] } }, "plugins": { "p": { "module": "p.wasm", "redis": { "x": { } } } } }""", "plugins.p.redis.x: no redis target \"x\" is configured (plugins name targets by their name here, not by alias)")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"] } }, "plugins": { "p": { "module": "p.wasm", "redis": { "r": { "scripts": ["abc"] } } } } }""", "plugins.p.redis.r.scripts[0]: \"abc\" is not a SHA-1 (40 hex digits, as SCRIPT LOAD returns it)")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"] } }, "plugins": { "p": { "module": "p.wasm", "redis": { "r": { "allowCommands": ["replconf"] } } } } }""", "plugins.p.redis.r.allowCommands[0]: REPLCONF cannot be allowed: it would change, block or desynchronize the connection other calls share")]
    [InlineData("""{ "redis": { "r": { "endpoints": ["h:1"] } }, "plugins": { "p": { "module": "p.wasm", "redis": { "r": { "password": "x" } } } } }""", "plugins.p.redis.r.user: a password needs the ACL user it belongs to")]
    [InlineData("""{ "databases": { "d": { "connectionString": "Host=h", "password": "x", "passwordFile": "p.wasm" } } }""", "databases.d.passwordFile: set either password or passwordFile, not both")]
    [InlineData("""{ "databases": { "d": { "provider": "oracle", "connectionString": "Host=h" } } }""", "databases.d.provider: \"oracle\" is not one of: postgresql, mysql")]
    [InlineData("""{ "databases": { "d": { "connectionString": "Host=h", "maxPoolSize": 4, "maxConnectionsPerPlugin": 5 } } }""", "databases.d.maxConnectionsPerPlugin: must be between 1 and maxPoolSize (4), is 5")]
    [InlineData("""{ "databases": { "d": { "connectionString": "Host=h", "maxPoolSize": 4, "minPoolSize": 5 } } }""", "databases.d.minPoolSize: must be between 0 and maxPoolSize (4), is 5")]
    [InlineData("""{ "databases": { "d": { "connectionString": "Host=h", "minPoolSize": -1 } } }""", "databases.d.minPoolSize: must be between 0 and maxPoolSize (32), is -1")]
    [InlineData("""{ "databases": { "d": { "connectionString": "Host=h", "maxConnectionsPerPlugin": 0 } } }""", "databases.d.maxConnectionsPerPlugin: must be between 1 and maxPoolSize (32), is 0")]
    [InlineData("""{ "databases": { "d": { "provider": "mysql", "connectionString": "Server=h", "caFile": "no-such-ca.pem" } } }""", "databases.d.caFile: cannot read \"{root}/no-such-ca.pem\": no such file")]
    [InlineData("""{ "databases": { "d": { "connectionString": "Host=h", "statements": { "s": { "sql": "SELECT 1", "maxRows": 0 } } } } }""", "databases.d.statements.s.maxRows: must be positive, is 0")]
    [InlineData("""{ "databases": { "d": { "connectionString": "Host=h", "statements": { "s": "" } } } }""", "databases.d.statements.s.sql: must not be empty")]
    [InlineData("""{ "shutdown": { "drainTimeoutMs": -1 } }""", "shutdown.drainTimeoutMs: must not be negative, is -1")]
    [InlineData("""{ "listeners": [{ "name": "a", "port": 1, "maxConnections": 0 }] }""", "listeners[0].maxConnections: must be positive, is 0")]
    [InlineData("""{ "admin": { "maxConnections": -1 } }""", "admin.maxConnections: must be positive, is -1")]
    [InlineData("""{ "accessLog": { "file": "logs/access.log" } }""", "accessLog.file: \"logs/access.log\" is not an absolute file path")]
    [InlineData("""{ "accessLog": { "file": "/nonexistent-folder/access.log" } }""", "accessLog.file: the folder of \"/nonexistent-folder/access.log\" does not exist")]
    [InlineData("""{ "accessLog": { "queueCapacity": 0 } }""", "accessLog.queueCapacity: must be positive, is 0")]
    [InlineData("""{ "routes": [{ "name": "r", "cluster": "backend", "upgrades": ["h2c"] }] }""", "routes[0].upgrades[0]: \"h2c\" is not an upgrade protocol name the gateway relays (a token such as \"websocket\"; never h2c)")]
    [InlineData("""{ "limits": { "tunnelIdleTimeoutMs": 0 } }""", "limits.tunnelIdleTimeoutMs: must be positive, is 0")]
    [InlineData("""{ "listeners": [{ "name": "a", "port": 1, "tls": { "certFile": "/nonexistent/tls.crt", "keyFile": "/etc/passwd", "minVersion": "1.2" } }] }""", "listeners[0].tls.certFile: no such file \"/nonexistent/tls.crt\"")]
    [InlineData("""{ "listeners": [{ "name": "a", "port": 1, "tls": { } }] }""", "listeners[0].tls: needs certFile and keyFile, or certificates[]")]
    [InlineData("""{ "clusters": { "backend": { "endpoints": ["h:1"], "tls": { "caFile": "/nonexistent/ca.crt" } } } }""", "clusters.backend.tls.caFile: no such file \"/nonexistent/ca.crt\"")]
    [InlineData("""{ "clusters": { "backend": { "endpoints": ["h:1"], "tls": { "certFile": "/etc/passwd" } } } }""", "clusters.backend.tls.certFile: set certFile and keyFile together")]
    [InlineData("""{ "paths": { "escapedSlashes": "decode" } }""", "paths.escapedSlashes: \"decode\" is not one of: reject, keep, unescape")]
    [InlineData("""{ "routes": [{ "name": "r", "cluster": "backend", "match": { "pathPrefix": "/api//v1/" } }] }""", "routes[0].match.pathPrefix: \"/api//v1/\" is not a normalized path (see paths), so no request would match it; write \"/api/v1/\"")]
    [InlineData("""{ "routes": [{ "name": "r", "cluster": "backend", "match": { "path": "/a%2Fb" } }] }""", "routes[0].match.path: \"/a%2Fb\" is not a normalized path (see paths), so no request would match it")]
    public void Mistake_ReportedWithItsKeyPath(string overrides, string expected)
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        var result = dir.Load(Merge(overrides));

        Assert.Null(result.Config);
        Assert.Equal([expected.Replace("{root}", dir.Path)], result.Errors);
    }

    [Fact]
    public void TlsMinVersion_UnknownValueReported()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load(Merge("""{ "listeners": [{ "name": "a", "port": 1, "tls": { "minVersion": "1.1" } }] }"""));

        Assert.Contains("listeners[0].tls.minVersion: \"1.1\" is not one of: 1.2, 1.3", result.Errors);
    }

    [Fact]
    public void PluginFailurePolicy_UnknownValueReported()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        var result = dir.Load(Merge("""{ "plugins": { "p": { "module": "p.wasm", "failurePolicy": "maybe" } } }"""));

        Assert.Equal(["plugins.p.failurePolicy: \"maybe\" is not one of: open, closed"], result.Errors);
    }

    [Fact]
    public void SingletonPluginOnRoute_Reported()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        var result = dir.Load(Merge("""
            {
              "plugins": { "p": { "module": "p.wasm", "singleton": true } },
              "routes": [{ "name": "r", "cluster": "backend", "plugins": ["p", "p"] }]
            }
            """));

        Assert.Equal(
            [
                "routes[0].plugins[0]: plugin \"p\" is a singleton (a background service) and cannot run on a route",
                "routes[0].plugins[1]: plugin \"p\" is a singleton (a background service) and cannot run on a route",
            ],
            result.Errors);
    }

    [Fact]
    public void MistypedValue_ReportedOnceNotAgainBySemanticChecks()
    {
        using var dir = new TempFolder("gateway-config-");

        // The bad endpoints list must not also yield "at least one endpoint", nor the route an unknown cluster.
        var result = dir.Load(Merge("""{ "clusters": { "backend": { "endpoints": "10.0.0.1:80" } } }"""));

        Assert.Equal(["clusters.backend.endpoints: expected an array, found \"10.0.0.1:80\""], result.Errors);
    }

    [Fact]
    public void NumberAsString_AcceptedForIntegerKeys()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid(Merge("""{ "workers": "3" }"""));

        Assert.Equal(3, config.Workers);
    }

    [Fact]
    public void SchemaKey_IsIgnored()
    {
        using var dir = new TempFolder("gateway-config-");

        dir.LoadValid(Merge("""{ "$schema": "https://example.com/gateway.schema.json" }"""));
    }

    /// <summary>A valid minimal config with the given top-level keys replaced.</summary>
    private static string Merge(string overrides)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(SampleConfigs.Minimal)!.AsObject();
        foreach (var (key, value) in System.Text.Json.Nodes.JsonNode.Parse(overrides)!.AsObject().ToArray())
        {
            config[key] = value?.DeepClone();
        }

        return config.ToJsonString();
    }
}
