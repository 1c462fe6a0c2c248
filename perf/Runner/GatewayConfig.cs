using System.Text.Json.Nodes;

namespace Gateway.Perf.Runner;

/// <summary>
/// The gateway's configuration for one scenario (README, 'Configuration reference'): one worker, one
/// listener, one catch-all route to the trivial upstream, and the plugins,
/// Redis target and database the scenario needs.
/// </summary>
public static class GatewayConfig
{
    /// <param name="earlierSchema">
    /// For an earlier build (PERF_BASELINE_GATEWAY) that refuses keys it does not know: no access-log switch (it had
    /// no access log) and no per-plugin Redis section (it had no script allow-list).
    /// </param>
    public static string Build(int port, int adminPort, int upstreamPort, string pluginFolder, IReadOnlyList<string> plugins,
        int? redisPort, int? postgresPort, int? mariaDbPort = null, bool earlierSchema = false)
    {
        var pluginTable = new JsonObject();
        var routePlugins = new JsonArray();
        foreach (var plugin in plugins)
        {
            routePlugins.Add(plugin);
            var entry = new JsonObject { ["module"] = Path.Combine(pluginFolder, plugin + ".wasm") };
            var configuration = PluginConfiguration(plugin);
            if (configuration is not null)
            {
                entry["configuration"] = configuration;
            }
            if (plugin == "rate_limit" && !earlierSchema)
            {
                // The Redis command policy runs only listed scripts: the plugin's GCRA script.
                entry["redis"] = new JsonObject { ["default"] = new JsonObject { ["scripts"] = new JsonArray("7c8a1a4fd6b22f3df51a6e234cc0f35eee25627e") } };
            }
            pluginTable[plugin] = entry;
        }
        var config = new JsonObject
        {
            ["workers"] = 1,
            ["listeners"] = new JsonArray(new JsonObject { ["name"] = "public", ["address"] = "127.0.0.1", ["port"] = port }),
            ["admin"] = new JsonObject { ["address"] = "127.0.0.1", ["port"] = adminPort },
            ["clusters"] = new JsonObject
            {
                ["upstream"] = new JsonObject { ["endpoints"] = new JsonArray($"127.0.0.1:{upstreamPort}") },
            },
            ["routes"] = new JsonArray(new JsonObject
            {
                ["name"] = "all",
                ["match"] = new JsonObject { ["host"] = "*", ["pathPrefix"] = "/" },
                ["cluster"] = "upstream",
                ["plugins"] = routePlugins,
            }),
            ["plugins"] = pluginTable,
            // The nginx and HAProxy peers run without an access log; so does the gateway, for a like-for-like CPU figure.
            ["accessLog"] = new JsonObject { ["enabled"] = false },
        };
        if (earlierSchema)
        {
            config.Remove("accessLog");
        }
        if (redisPort is int redis)
        {
            config["redis"] = new JsonObject
            {
                // A generous timeout: on a shared machine a stall is noise, not a Redis failure; the tail shows it anyway.
                ["default"] = new JsonObject { ["endpoints"] = new JsonArray($"127.0.0.1:{redis}"), ["timeoutMs"] = 1000 },
            };
        }
        if (postgresPort is int postgres)
        {
            config["databases"] = new JsonObject
            {
                ["accounts"] = new JsonObject
                {
                    ["provider"] = "postgresql",
                    ["connectionString"] = PostgresService.ConnectionString(postgres, pooling: true),
                    ["timeoutMs"] = 1000,
                    ["statements"] = new JsonObject { ["find_api_key"] = PostgresService.FindApiKey },
                },
            };
        }
        if (mariaDbPort is int mariadb)
        {
            // The same plugin and statement id; only the provider and the placeholder style differ.
            config["databases"] = new JsonObject
            {
                ["accounts"] = new JsonObject
                {
                    ["provider"] = "mysql",
                    ["connectionString"] = MariaDbService.ConnectionString(mariadb),
                    ["timeoutMs"] = 1000,
                    ["statements"] = new JsonObject { ["find_api_key"] = MariaDbService.FindApiKey },
                },
            };
        }
        return config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    // failurePolicy "closed" in both plugins: a Redis or SQL failure must answer an error the loader
    // counts, never let the request through unchecked and flatter the figure (fail-open is their default).
    private static JsonNode? PluginConfiguration(string plugin) => plugin switch
    {
        "rate_limit" => JsonNode.Parse("""
            { "mode": "redis", "redis": "default", "failurePolicy": "closed", "key": { "source": "header", "name": "x-client" },
              "limits": [ { "name": "m", "limit": 1000000000, "windowSeconds": 60 } ] }
            """),
        "api_key" => JsonNode.Parse("""{ "database": "accounts", "statement": "find_api_key", "header": "x-api-key", "failurePolicy": "closed" }"""),
        _ => null,
    };
}
