using Gateway.Testing;
using System.Text.RegularExpressions;

namespace Gateway.Functional.Tests.Sandbox;

/// <summary>
/// Configs for the hostile test plugins (plugins/testdata/c/hostile.c and fuzz.c) on the published AOT binary: the
/// attack runs on its own route, and a plain route ("/") shows the gateway keeps serving others.
/// </summary>
internal static class HostileGateway
{
    public static string Hostile => Module("hostile");

    public static string Fuzz => Module("fuzz");

    private static string Module(string name)
    {
        string path = RepoPaths.TestModule(name);
        return path;
    }

    /// <summary>A plugin entry; <paramref name="limits"/> is the JSON body of its limits object.</summary>
    public static string Plugin(string name, string configuration, string limits = "", string module = "")
    {
        string allLimits = limits.Length == 0 ? "" : ", " + limits;
        return $"\"{name}\": {{ \"module\": \"{(module.Length == 0 ? Hostile : module)}\", \"configuration\": \"{configuration}\", " +
            $"\"limits\": {{ \"cpuMillisecondsPerCall\": 200 {allLimits} }} }}";
    }

    /// <summary>Routes: <paramref name="routes"/> (JSON objects, first match wins) then "/" without plugins to "backend".</summary>
    public static string Config(string backend, string plugins, string routes, string extraClusters = "", string limits = "") => $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          {{(limits.Length == 0 ? "" : $"\"limits\": {{ {limits} }},")}}
          "clusters": { "backend": { "endpoints": ["{{backend}}"] } {{extraClusters}} },
          "routes": [ {{routes}}{{(routes.Length == 0 ? "" : ",")}} { "name": "plain", "match": { "pathPrefix": "/" }, "cluster": "backend" } ],
          "plugins": { {{plugins}} }
        }
        """;

    public static string Route(string name, string prefix, string plugins, string cluster = "backend") =>
        $$"""{ "name": "{{name}}", "match": { "pathPrefix": "{{prefix}}" }, "cluster": "{{cluster}}", "plugins": [{{plugins}}] }""";

    public static Task<GatewayProcess> StartAsync(string config) => GatewayProcess.StartAsync(config, aot: true);

    /// <summary>The plain route still answers, on a fresh connection: the attack left the gateway serving.</summary>
    public static async Task AssertStillServingAsync(GatewayProcess gateway)
    {
        Assert.False(gateway.HasExited, "the gateway exited");
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/plain"));
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(10));
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
    }

    /// <summary>The value of one series of /metrics, e.g. <c>gateway_plugin_refusals_total{plugin="p",limit="body_size"}</c>.</summary>
    public static async Task<long> MetricAsync(GatewayProcess gateway, string series)
    {
        string metrics = await gateway.AdminGetAsync("/metrics");
        var match = Regex.Match(metrics, "^" + Regex.Escape(series) + " (\\d+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{series} is not in /metrics");
        return long.Parse(match.Groups[1].Value);
    }

    /// <summary>Runs <c>promtool check metrics</c> on /metrics: exit 0, or 3 for style hints only, never a parse error.</summary>
    public static async Task AssertPromtoolAcceptsAsync(GatewayProcess gateway)
    {
        string metrics = await gateway.AdminGetAsync("/metrics");
        var (exit, output) = await CommandRun.RunAsync("promtool", ["check", "metrics"], input: metrics);
        Assert.True(exit is 0 or 3 && !output.Contains("error", StringComparison.OrdinalIgnoreCase),
            $"promtool rejected /metrics (exit {exit}): {output}");
    }
}
