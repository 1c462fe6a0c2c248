using System.Diagnostics;
using System.Text.Json.Nodes;
using Gateway.Testing;
using Gateway.Testing.Redis;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// Gateway configurations (README, 'Configuration reference') with one catch-all route through the given first-party plugins
/// to a test upstream, and the client calls the plugin tests make.
/// </summary>
public static class PluginGateway
{
    /// <param name="freeRoutePrefix">When set, a route with this path prefix and no plugins comes first.</param>
    public static string Config(int workers, TestUpstream upstream, JsonObject plugins, string[] routePlugins,
        JsonObject? redis = null, JsonObject? databases = null, string? freeRoutePrefix = null)
    {
        var route = new JsonObject
        {
            ["name"] = "api",
            ["match"] = new JsonObject { ["host"] = "*", ["pathPrefix"] = "/" },
            ["cluster"] = "backend",
            ["plugins"] = new JsonArray(routePlugins.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()),
        };
        var config = new JsonObject
        {
            ["workers"] = workers,
            ["listeners"] = new JsonArray(new JsonObject { ["name"] = "public", ["address"] = "127.0.0.1", ["port"] = 0 }),
            ["admin"] = new JsonObject { ["address"] = "127.0.0.1", ["port"] = 0 },
            ["clusters"] = new JsonObject
            {
                ["backend"] = new JsonObject { ["endpoints"] = new JsonArray(JsonValue.Create(upstream.Endpoint)) },
            },
            ["routes"] = freeRoutePrefix is null
                ? new JsonArray(route)
                : new JsonArray(
                    new JsonObject
                    {
                        ["name"] = "free",
                        ["match"] = new JsonObject { ["host"] = "*", ["pathPrefix"] = freeRoutePrefix },
                        ["cluster"] = "backend",
                    },
                    route),
            ["plugins"] = plugins,
            ["redis"] = redis ?? [],
            ["databases"] = databases ?? [],
        };
        return config.ToJsonString();
    }

    /// <summary>SHA-1 of the rate_limit plugin's GCRA script: the Redis command policy runs only listed scripts.</summary>
    public const string RateLimitScriptSha = "7c8a1a4fd6b22f3df51a6e234cc0f35eee25627e";

    /// <summary>
    /// A plugin entry for one of our modules, its configuration given as a JSON object. A rate_limit in Redis
    /// mode gets its script listed for its target, as an operator would configure it.
    /// </summary>
    public static JsonObject Plugin(string module, JsonObject configuration, string? rootId = null)
    {
        var entry = PluginEntry(module, configuration, rootId);
        if (module == "rate_limit" && configuration["mode"]?.GetValue<string>() == "redis"
            && configuration["redis"] is JsonValue target && target.TryGetValue(out string? name))
        {
            entry["redis"] = new JsonObject { [name] = new JsonObject { ["scripts"] = new JsonArray(RateLimitScriptSha) } };
        }
        return entry;
    }

    private static JsonObject PluginEntry(string module, JsonObject configuration, string? rootId) => new()
    {
        ["module"] = FirstPartyPluginBuild.PathOf(module),
        ["rootId"] = rootId ?? "",
        ["configuration"] = configuration,
        // A trap must show up as a failed request, never as a silently skipped plugin.
        ["failurePolicy"] = "closed",
        // The deadline is wall-clock time; the JIT-run gateway compiles each host import on first use, which
        // on a loaded 2-core machine can exceed the 5 ms default and fail a request these tests count.
        ["limits"] = new JsonObject { ["cpuMillisecondsPerCall"] = 200 },
    };

    public static JsonObject RedisTarget(RedisProcess redis, int timeoutMs) => new()
    {
        ["endpoints"] = new JsonArray(JsonValue.Create(redis.Endpoint)),
        ["timeoutMs"] = timeoutMs,
        ["connectTimeoutMs"] = timeoutMs,
    };

    /// <summary>One GET on a fresh connection (connections are spread over the workers).</summary>
    public static Task<ClientResponse> GetAsync(int port, params string[] headers) => GetPathAsync(port, "/api/resource", headers);

    public static async Task<ClientResponse> GetPathAsync(int port, string path, params string[] headers)
    {
        using var client = new RawClient(port);
        string extra = string.Concat(headers.Select(h => h + "\r\n"));
        await client.SendAsync(RawClient.Get(path, "a.test", extra));
        return await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(20))
            ?? throw new IOException("the gateway closed the connection without a response");
    }

    /// <summary><see cref="GetAsync"/> with the time the client waited for the response.</summary>
    public static Task<(ClientResponse Response, TimeSpan Elapsed)> TimedGetAsync(int port, params string[] headers) =>
        TimedGetPathAsync(port, "/api/resource", headers);

    public static async Task<(ClientResponse Response, TimeSpan Elapsed)> TimedGetPathAsync(int port, string path, params string[] headers)
    {
        var clock = Stopwatch.StartNew();
        ClientResponse response = await GetPathAsync(port, path, headers);
        return (response, clock.Elapsed);
    }
}
