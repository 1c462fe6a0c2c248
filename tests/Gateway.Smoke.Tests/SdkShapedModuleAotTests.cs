using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Testing;

namespace Gateway.Smoke.Tests;

/// <summary>
/// The SDK-shaped and malformed modules of plugins/testdata through the published AOT binary: --check-config,
/// start-up, real requests, and the JSON log records they produce.
/// </summary>
public sealed class SdkShapedModuleAotTests : IDisposable
{
    private readonly TempFolder _moduleCache = new("gateway-cache-");
    private readonly TempFolder _configFolder = new("gateway-sdk-");

    public void Dispose()
    {
        _moduleCache.Dispose();
        _configFolder.Dispose();
    }

    private static string TestData(string module) => Path.Combine(RepoPaths.PluginsDir, "testdata", module + ".wasm");

    private static JsonObject Plugin(string module, string configuration = "", string rootId = "", string policy = "closed") => new()
    {
        ["module"] = TestData(module),
        ["configuration"] = configuration,
        ["rootId"] = rootId,
        ["failurePolicy"] = policy,
    };

    private string Config(string upstream, JsonObject plugins, params (string Prefix, string Plugin)[] routes)
    {
        var routeList = new JsonArray();
        foreach (var (prefix, plugin) in routes)
        {
            routeList.Add(new JsonObject
            {
                ["name"] = plugin,
                ["match"] = new JsonObject { ["pathPrefix"] = prefix },
                ["cluster"] = "backend",
                ["plugins"] = new JsonArray(plugin),
            });
        }
        routeList.Add(new JsonObject { ["name"] = "rest", ["match"] = new JsonObject { ["pathPrefix"] = "/" }, ["cluster"] = "backend" });
        return new JsonObject
        {
            ["workers"] = 1,
            ["listeners"] = new JsonArray(new JsonObject { ["name"] = "public", ["address"] = "127.0.0.1", ["port"] = 0 }),
            ["admin"] = new JsonObject { ["address"] = "127.0.0.1", ["port"] = 0 },
            ["clusters"] = new JsonObject { ["backend"] = new JsonObject { ["endpoints"] = new JsonArray(upstream) } },
            ["routes"] = routeList,
            ["plugins"] = plugins,
            ["moduleCache"] = new JsonObject { ["directory"] = _moduleCache.Path },
        }.ToJsonString();
    }

    private static JsonObject SdkPlugins() => new()
    {
        ["go"] = Plugin("sdk/go_wasip1"),
        ["panic"] = Plugin("sdk/go_panic"),
        ["go126"] = Plugin("sdk/go126_memory"),
        ["dispatch"] = Plugin("sdk/http_call_empty_authority"),
        ["body"] = Plugin("sdk/get_body"),
        ["trailers"] = Plugin("sdk/trailers"),
        ["higress"] = Plugin("sdk/higress_foreign"),
        ["as"] = Plugin("as_headers", rootId: "as_headers"),
    };

    [Fact]
    public async Task CheckConfig_EverySdkShapedModule_IsValid()
    {
        string path = await WriteAsync(Config("127.0.0.1:1", SdkPlugins()));
        var (exit, output) = await RunAsync("--check-config", path);
        Assert.True(exit == 0, output);
    }

    [Fact]
    public async Task CheckConfig_MalformedModules_ExitOneNamingEveryPlugin_NoCrash()
    {
        using var scratch = new TempFolder("gateway-malformed-");
        byte[] good = await File.ReadAllBytesAsync(TestData("sdk/go_wasip1"), TestContext.Current.CancellationToken);
        var damaged = new Dictionary<string, byte[]>
        {
            ["bad-magic"] = [.. "\0wsm"u8, .. good.AsSpan(4)],
            ["truncated"] = good[..(good.Length / 2)],
            ["empty"] = [],
        };
        var plugins = new JsonObject();
        foreach (var (name, bytes) in damaged)
        {
            string file = scratch.PathOf(name + ".wasm");
            await File.WriteAllBytesAsync(file, bytes, TestContext.Current.CancellationToken);
            plugins[name] = new JsonObject { ["module"] = file };
        }
        string[] malformed = Directory.GetFiles(Path.Combine(RepoPaths.PluginsDir, "testdata", "malformed"), "*.wasm");
        Assert.True(malformed.Length >= 10, "malformed test modules missing: run `make plugins`");
        foreach (string file in malformed)
        {
            plugins["m-" + Path.GetFileNameWithoutExtension(file)] = new JsonObject { ["module"] = file };
        }
        string path = await WriteAsync(Config("127.0.0.1:1", plugins));

        var (exit, output) = await RunAsync("--check-config", path);

        Assert.True(exit == 1, output);
        foreach (var (name, _) in plugins)
        {
            Assert.Contains($"plugin '{name}'", output);
        }
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.DoesNotContain("error while executing", output);
        Assert.Contains("proc_exit(3)", output);
        Assert.Contains("out of bounds memory access at 0xfffffffc, in proxy_on_configure", output);
    }

    [Fact]
    public async Task CheckConfig_Go126OverAnExplicitMemoryCap_SaysPagesMiBAndTheLimit()
    {
        var plugin = Plugin("sdk/go126_memory");
        plugin["limits"] = new JsonObject { ["memoryBytes"] = 16777216 };
        string path = await WriteAsync(Config("127.0.0.1:1", new JsonObject { ["go126"] = plugin }));
        var (exit, output) = await RunAsync("--check-config", path);
        Assert.True(exit == 1, output);
        Assert.Contains("plugin 'go126': module declares 550 pages (34.4 MiB) of initial memory, over limits.memoryBytes 16777216 (16.0 MiB)", output);
    }

    [Fact]
    public async Task Gateway_RunsSdkShapedModulesOnRealRequests()
    {
        await using var upstream = new TestUpstream(async (request, stream) =>
        {
            if (request.RequestLine.StartsWith("GET /trailers", StringComparison.Ordinal))
            {
                await TestUpstream.WriteAsync(stream,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-upstream-trailer: u-1\r\n\r\n");
                return;
            }
            await TestUpstream.OkAsync(request, stream);
        });
        await using var gateway = await GatewayProcess.StartAsync(
            Config(upstream.Endpoint, SdkPlugins(), ("/go", "go"), ("/panic", "panic"), ("/body", "body"), ("/trailers", "trailers"), ("/dispatch", "dispatch")),
            aot: true);
        using var client = new RawClient(gateway.Port);

        // Go-shaped module: duplicate WASI imports linked once; stdout written in three pieces is one record,
        // its text under its own key.
        await client.SendAsync(RawClient.Get("/go/x"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal("go-wasip1", Take(upstream).Header("x-sdk-shape"));
        var said = Assert.Single(await gateway.WaitForLogAsync("go plugin saw"));
        Assert.Equal("go plugin saw /go/x", (string?)said["guestMessage"]);
        AssertUniqueKeys(gateway, "go plugin saw");

        // A GET with a body reaches the plugin's body callback and the upstream, rewritten.
        await client.SendAsync("GET /body HTTP/1.1\r\nHost: a.test\r\nContent-Length: 8\r\n\r\n{\"q\":1}\n");
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal("seen:{\"q\":1}\n", System.Text.Encoding.ASCII.GetString(Take(upstream).Body));

        // Trailers both ways.
        await client.SendAsync("POST /trailers HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-client-trailer: t-1\r\n\r\n");
        var first = await client.ReadResponseAsync();
        Assert.Equal("t-1", first!.Header("x-request-trailer"));
        Take(upstream);
        await client.SendAsync(RawClient.Get("/trailers"));
        var second = await client.ReadResponseAsync();
        Assert.Equal("u-1", second!.Header("x-plugin-trailer"));
        Take(upstream);

        // An http call with an empty :authority goes out with the endpoint's host.
        await client.SendAsync(RawClient.Get("/dispatch"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        var callout = Take(upstream);
        Assert.StartsWith("GET /callout ", callout.RequestLine, StringComparison.Ordinal);
        Assert.Equal(upstream.Endpoint, callout.Header("host"));
        Assert.Equal("200", Take(upstream).Header("x-callout-status"));

        // A Go panic: one record with the stack, the failure reason naming proc_exit(2), a 500 for the request.
        using var other = new RawClient(gateway.Port);
        await other.SendAsync(RawClient.Get("/panic"));
        Assert.Equal(500, (await other.ReadResponseAsync())!.Status);
        var panic = Assert.Single(await gateway.WaitForLogAsync("panic: runtime error"));
        Assert.Contains("goroutine 1 [running]:\nmain.(*httpContext).OnHttpRequestHeaders(...)", (string?)panic["guestMessage"]);
        Assert.Contains("proc_exit(2)", (await gateway.WaitForLogAsync("failed on worker"))[0].ToJsonString());
    }

    private static ReceivedRequest Take(TestUpstream upstream)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (upstream.Requests.TryDequeue(out var request))
            {
                return request;
            }
            Thread.Sleep(5);
        }
        throw new TimeoutException("the upstream received nothing");
    }

    private static void AssertUniqueKeys(GatewayProcess gateway, string text)
    {
        foreach (string line in gateway.Output.Split('\n'))
        {
            if (!line.StartsWith('{') || !line.Contains(text, StringComparison.Ordinal))
            {
                continue;
            }
            var names = new List<string>();
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(line));
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    names.Add(reader.GetString()!);
                }
            }
            Assert.Equal(names.Count, names.Distinct().Count());
        }
    }

    private async Task<string> WriteAsync(string config)
    {
        string path = _configFolder.PathOf("gateway.json");
        await File.WriteAllTextAsync(path, config, TestContext.Current.CancellationToken);
        return path;
    }

    private static Task<(int Exit, string Output)> RunAsync(params string[] args) => CommandRun.RunAsync(RepoPaths.AotBinary, args);
}
