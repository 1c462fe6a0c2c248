using Gateway.Testing;

namespace Gateway.Tests.Configuration;

/// <summary>Small configs the tests start from.</summary>
internal static class SampleConfigs
{
    /// <summary>The smallest valid config: one listener, one cluster, one route.</summary>
    public const string Minimal = """
        {
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "clusters": { "backend": { "endpoints": ["127.0.0.1:9000"] } },
          "routes": [{ "name": "all", "cluster": "backend" }]
        }
        """;

    /// <summary>The example of README, 'Configuration reference', with secret paths relative to the config folder.</summary>
    public const string DesignExample = """
        {
          "workers": 0,
          "listeners": [{ "name": "public", "address": "0.0.0.0", "port": 8080 }],
          "admin": { "address": "127.0.0.1", "port": 9901 },
          "limits": { "maxRequestLineBytes": 8192, "maxHeaderBytes": 65536,
                      "maxHeaderCount": 100, "maxBodyBytes": 10485760,
                      "headerTimeoutMs": 10000, "idleTimeoutMs": 60000 },
          "clusters": {
            "backend": { "endpoints": ["10.0.0.7:8080"], "loadBalancing": "roundRobin",
                         "connectTimeoutMs": 1000, "requestTimeoutMs": 15000,
                         "maxConnectionsPerWorker": 256 }
          },
          "routes": [
            { "name": "api", "match": { "host": "*", "pathPrefix": "/api/" },
              "cluster": "backend", "plugins": ["rate-limit", "api-key"] }
          ],
          "plugins": {
            "rate-limit": { "module": "plugins/rate_limit.wasm",
                            "configuration": { "redis": "default", "limit": 100, "windowSeconds": 60 },
                            "vmConfiguration": "",
                            "failurePolicy": "open",
                            "limits": { "memoryBytes": 16777216, "cpuMillisecondsPerCall": 5 } },
            "api-key": { "module": "plugins/api_key.wasm",
                         "configuration": { "database": "accounts", "statement": "find_api_key" } }
          },
          "redis": {
            "default": { "endpoints": ["127.0.0.1:6379"], "user": null,
                         "aliases": ["outbound|6379||redis.default.svc.cluster.local"],
                         "passwordFile": "secrets/redis/password", "database": 0,
                         "timeoutMs": 50 }
          },
          "databases": {
            "accounts": { "provider": "postgresql",
                          "connectionString": "Host=pg;Database=gw;Username=gateway",
                          "passwordFile": "secrets/pg/password",
                          "timeoutMs": 100, "maxPoolSize": 32,
                          "statements": { "find_api_key":
                            "SELECT tenant, plan FROM api_keys WHERE key_hash = $1 AND NOT revoked" } }
          }
        }
        """;

    /// <summary>Writes the files <see cref="DesignExample"/> references.</summary>
    public static void WriteDesignExampleFiles(TempFolder folder)
    {
        folder.Write("plugins/rate_limit.wasm", "\0asm");
        folder.Write("plugins/api_key.wasm", "\0asm");
        folder.Write("secrets/redis/password", "redis-secret-1\n");
        folder.Write("secrets/pg/password", "pg-secret-1\n");
    }
}
