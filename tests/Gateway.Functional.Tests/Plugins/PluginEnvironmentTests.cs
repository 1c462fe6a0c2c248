using Gateway.Testing;

namespace Gateway.Functional.Tests.Plugins;

/// <summary>
/// <c>plugins.&lt;name&gt;.environment</c> through the published binary: the guest's WASI <c>environ_get</c> sees exactly
/// the configured variables, in order, and nothing of the gateway's own environment.
/// </summary>
public sealed class PluginEnvironmentTests
{
    private static string Module => RepoPaths.TestModule("environ");

    private static string Config(string upstream, string environment) => $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "backend": { "endpoints": ["{{upstream}}"] } },
          "routes": [ { "name": "all", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["p"] } ],
          "plugins": { "p": { "module": "{{Module}}", "environment": {{environment}}, "limits": { "cpuMillisecondsPerCall": 1000 } } }
        }
        """;

    [Fact]
    public async Task ConfiguredVariables_AreWhatEnvironGetReturns()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(
            Config(upstream.Endpoint, """{ "GREETING": "hello world", "MODE": "a=b" }"""), aot: true);
        using var client = new RawClient(gateway.Port);

        await client.SendAsync(RawClient.Get("/env"));
        var response = await client.ReadResponseAsync();

        Assert.Equal(200, response!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal("GREETING=hello world;MODE=a=b", received.Header("x-environ"));
    }

    [Fact]
    public async Task NoVariablesConfigured_GuestSeesAnEmptyEnvironment()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, "{}"), aot: true);
        using var client = new RawClient(gateway.Port);

        await client.SendAsync(RawClient.Get("/env"));
        var response = await client.ReadResponseAsync();

        Assert.Equal(200, response!.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        // The plugin adds its header only when there is something to show: the gateway's own PATH, HOME... never reach it.
        Assert.Null(received.Header("x-environ"));
    }
}
