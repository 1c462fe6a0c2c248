using Gateway.Backends;
using Gateway.Configuration;
using Gateway.Http;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Upstream;
using Gateway.Testing;

namespace Gateway.Tests.Configuration;

public sealed class ConfigLoaderTests
{
    [Fact]
    public void DesignExample_LoadsWithEveryValue()
    {
        using var dir = new TempFolder("gateway-config-");
        SampleConfigs.WriteDesignExampleFiles(dir);

        var result = dir.Load(SampleConfigs.DesignExample);

        Assert.Empty(result.Errors);
        var config = result.Config!;
        Assert.Equal(0, config.Workers);
        var listener = Assert.Single(config.Listeners);
        Assert.Equal(("public", "0.0.0.0", 8080), (listener.Name, listener.Address, listener.Port));
        Assert.Equal(("127.0.0.1", 9901), (config.Admin.Address, config.Admin.Port));
        Assert.Equal(10485760, config.Limits.MaxBodyBytes);
        Assert.Equal(100, config.Limits.MaxHeaderCount);

        var backend = config.Clusters["backend"];
        Assert.Equal(["10.0.0.7:8080"], backend.Endpoints);
        Assert.Equal(LoadBalancing.RoundRobin, backend.LoadBalancing);
        Assert.Equal(256, backend.MaxConnectionsPerWorker);

        var route = Assert.Single(config.Routes);
        Assert.Equal(("api", "*", "/api/", null), (route.Name, route.Match.Host, route.Match.PathPrefix, route.Match.Path));
        Assert.Equal(["rate-limit", "api-key"], route.Plugins);

        var rateLimit = config.Plugins["rate-limit"];
        Assert.Equal(FailurePolicy.Open, rateLimit.FailurePolicy);
        Assert.Equal("""{"redis":"default","limit":100,"windowSeconds":60}""", rateLimit.Configuration);
        Assert.Equal("", rateLimit.VmConfiguration);
        Assert.Equal(Path.Combine(dir.Path, "plugins", "rate_limit.wasm"), rateLimit.ModulePath);
        Assert.Equal(FailurePolicy.Closed, config.Plugins["api-key"].FailurePolicy);

        var redis = config.Redis["default"];
        Assert.Null(redis.User);
        Assert.Equal(["outbound|6379||redis.default.svc.cluster.local"], redis.Aliases);
        Assert.Equal(Path.Combine(dir.Path, "secrets", "redis", "password"), redis.PasswordFile);

        var accounts = config.Databases["accounts"];
        Assert.Equal(DatabaseProvider.PostgreSql, accounts.Provider);
        var statement = accounts.Statements["find_api_key"];
        Assert.Equal("SELECT tenant, plan FROM api_keys WHERE key_hash = $1 AND NOT revoked", statement.Sql);
        Assert.Equal(1000, statement.MaxRows);
    }

    [Fact]
    public void DesignExample_ReferencedFilesNameConfigModulesAndPasswordFiles()
    {
        using var dir = new TempFolder("gateway-config-");
        SampleConfigs.WriteDesignExampleFiles(dir);

        var result = dir.Load(SampleConfigs.DesignExample);

        Assert.Equal(
            [
                dir.ConfigPath,
                Path.Combine(dir.Path, "plugins", "rate_limit.wasm"),
                Path.Combine(dir.Path, "plugins", "api_key.wasm"),
                Path.Combine(dir.Path, "secrets", "redis", "password"),
                Path.Combine(dir.Path, "secrets", "pg", "password"),
            ],
            result.ReferencedFiles);
    }

    [Fact]
    public void MinimalConfig_GetsDesignDefaults()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid(SampleConfigs.Minimal);

        Assert.Equal(new HttpLimits(), config.Limits);
        Assert.Equal(8192, config.Limits.MaxRequestLineBytes);
        Assert.Equal(("127.0.0.1", 9901), (config.Admin.Address, config.Admin.Port));
        Assert.Equal((15000, 0), (config.Shutdown.DrainTimeoutMs, config.Shutdown.ListenerCloseDelayMs));
        var backend = config.Clusters["backend"];
        Assert.Equal((1000, 15000, 256), (backend.ConnectTimeoutMs, backend.RequestTimeoutMs, backend.MaxConnectionsPerWorker));
        Assert.Equal((5, 10000), (backend.Ejection.ConsecutiveFailures, backend.Ejection.CooldownMs));
        Assert.Equal("*", config.Routes[0].Match.Host);
        Assert.Empty(config.Routes[0].Plugins);
    }

    // The memory cap admits Go 1.26 plugins, which declare about 34 MiB of initial memory.
    [Fact]
    public void PluginDefaults_MatchDesign()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        var config = dir.LoadValid("""
            {
              "listeners": [{ "name": "public", "port": 0 }],
              "clusters": { "backend": { "endpoints": ["127.0.0.1:9000"] } },
              "plugins": { "p": { "module": "p.wasm" } },
              "redis": { "r": { "endpoints": ["127.0.0.1:6379"] } }
            }
            """);

        var plugin = config.Plugins["p"];
        Assert.Equal(("", "", "", "", FailurePolicy.Closed, false), (plugin.Configuration, plugin.VmConfiguration, plugin.RootId, plugin.VmId, plugin.FailurePolicy, plugin.Singleton));
        Assert.Equal((67108864L, 5), (plugin.Limits.MemoryBytes, plugin.Limits.CpuMillisecondsPerCall));
        var redis = config.Redis["r"];
        Assert.Equal((50, 1000, 0), (redis.TimeoutMs, redis.ConnectTimeoutMs, redis.Database));
    }

    [Fact]
    public void SameFileLoadedTwice_PluginConfigsCompareEqual()
    {
        using var dir = new TempFolder("gateway-config-");
        SampleConfigs.WriteDesignExampleFiles(dir);

        var first = dir.Load(SampleConfigs.DesignExample).Config!;
        var second = dir.Load(SampleConfigs.DesignExample).Config!;

        // A reload keeps a plugin's VMs when its config compares equal.
        Assert.Equal(first.Plugins["rate-limit"], second.Plugins["rate-limit"]);
        Assert.NotEqual(first.Plugins["rate-limit"], second.Plugins["rate-limit"] with { Configuration = "{}" });
    }

    [Fact]
    public void SyntaxError_ReportsLineAndPosition()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load("{\n  \"workers\": 1,\n  \"listeners\": [ }\n}");

        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{dir.ConfigPath}:3:", error);
        Assert.Contains("invalid JSON", error);
    }

    [Fact]
    public void DuplicateKey_IsReported()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load("""{ "workers": 1, "workers": 2 }""");

        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{dir.ConfigPath}: invalid JSON", error);
        Assert.Contains("workers", error);
    }

    [Fact]
    public void FileReferencedTwice_ListedOnce()
    {
        using var dir = new TempFolder("gateway-config-");
        var secret = dir.Write("pw", "x");

        var result = dir.Load("""
            {
              "listeners": [{ "name": "public", "port": 0 }],
              "redis": { "r": { "endpoints": ["h:1"], "user": "${file:pw}", "passwordFile": "pw" } }
            }
            """);

        Assert.Equal([dir.ConfigPath, secret], result.ReferencedFiles);
    }

    [Fact]
    public void Utf8ByteOrderMark_IsAccepted()
    {
        using var dir = new TempFolder("gateway-config-");
        File.WriteAllText(dir.ConfigPath, SampleConfigs.Minimal, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        var result = ConfigLoader.Load(dir.ConfigPath, new Dictionary<string, string>());

        Assert.Empty(result.Errors);
    }

    [Fact]
    public void CommentsAndTrailingCommas_AreAccepted()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid("""
            {
              // one worker is plenty for this host
              "workers": 1,
              "listeners": [{ "name": "public", "port": 0 }],
              "clusters": { "backend": { "endpoints": ["127.0.0.1:9000"], }, },
            }
            """);

        Assert.Equal(1, config.Workers);
    }

    [Fact]
    public void OfflineCheck_SkipsMountedFilesButStillValidates()
    {
        using var dir = new TempFolder("gateway-config-");
        // As in a config repository's CI: no modules built, no secrets mounted.
        var json = SampleConfigs.DesignExample.Replace("\"vmConfiguration\": \"\"", "\"vmConfiguration\": \"${file:/absent/token}\"");
        dir.Write("gateway.json", json);
        var offline = new ConfigLoadOptions { CheckFiles = false };

        var strict = ConfigLoader.Load(dir.ConfigPath, new Dictionary<string, string>());
        var relaxed = ConfigLoader.Load(dir.ConfigPath, new Dictionary<string, string>(), offline);
        dir.Write("gateway.json", json.Replace("\"port\": 8080", "\"port\": 80800"));
        var invalid = ConfigLoader.Load(dir.ConfigPath, new Dictionary<string, string>(), offline);

        Assert.Equal(5, strict.Errors.Count);
        Assert.Empty(relaxed.Errors);
        Assert.Equal(Path.Combine(dir.Path, "plugins", "rate_limit.wasm"), relaxed.Config!.Plugins["rate-limit"].ModulePath);
        Assert.Equal(["listeners[0].port: 80800 is not a port (0-65535, 0 for any free port)"], invalid.Errors);
    }

    [Fact]
    public void MissingFile_IsReportedNotThrown()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = ConfigLoader.Load(Path.Combine(dir.Path, "absent.json"), new Dictionary<string, string>());

        Assert.Null(result.Config);
        Assert.Contains("no such file", Assert.Single(result.Errors));
        Assert.Equal([Path.Combine(dir.Path, "absent.json")], result.ReferencedFiles);
    }

    [Fact]
    public void TopLevelArray_IsReported()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load("[]");

        Assert.Contains("must be a JSON object", Assert.Single(result.Errors));
    }
}
