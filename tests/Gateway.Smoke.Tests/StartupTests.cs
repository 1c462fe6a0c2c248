using System.Diagnostics;
using System.Net;
using Gateway.Testing;

namespace Gateway.Smoke.Tests;

/// <summary>
/// Start-up of the published binary, from process start to <c>/readyz</c> 200 and to the first proxied
/// response, measured and reported. The targets (100 ms without plugins, 300 ms with the two first-party
/// plugins) are judged by the perf harness, not asserted by a timed test.
/// </summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Startup_ProcessStartToReady_MeasuredWithAndWithoutFirstPartyPlugins()
    {
        await using var upstream = new TestUpstream();
        string rateLimit = Path.Combine(RepoPaths.PluginsDir, "rate_limit.wasm");
        string apiKey = Path.Combine(RepoPaths.PluginsDir, "api_key.wasm");
        Assert.True(File.Exists(rateLimit) && File.Exists(apiKey), "first-party plugins missing: run `make plugins`");
        string withPlugins = TestConfig.Proxy(
            TestConfig.Quote(upstream.Endpoint),
            routes: """{ "name": "api", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["rate-limit"] }""",
            extra: $$"""
                , "plugins": {
                    "rate-limit": { "module": "{{rateLimit}}", "configuration": { "mode": "local", "limits": [ { "name": "m", "limit": 100, "windowSeconds": 60 } ] } },
                    "api-key": { "module": "{{apiKey}}", "rootId": "api_key", "configuration": { "database": "accounts", "statement": "find" } }
                  },
                  "databases": { "accounts": { "connectionString": "Host=127.0.0.1;Port=1;Database=x;Username=x", "timeoutMs": 50, "statements": { "find": "SELECT 1" } } }
                """);
        var configs = new[] { ("without plugins", TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint))), ("with rate_limit and api_key", withPlugins) };
        foreach (var (name, config) in configs)
        {
            var clock = Stopwatch.StartNew();
            await using var gateway = await GatewayProcess.StartAsync(config, aot: true);
            while (await gateway.AdminStatusAsync("/readyz") != HttpStatusCode.OK)
            {
                await Task.Delay(5, TestContext.Current.CancellationToken);
            }
            long ready = clock.ElapsedMilliseconds;
            using var client = new RawClient(gateway.Port);
            await client.SendAsync(RawClient.Get());
            Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
            string line = $"AOT start-up {name}: /readyz 200 after {ready} ms, first proxied response after {clock.ElapsedMilliseconds} ms";
            TestContext.Current.SendDiagnosticMessage(line);
            Console.WriteLine(line);
        }
    }
}
