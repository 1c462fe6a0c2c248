using Gateway.Testing;

namespace Gateway.Tests.Configuration;

public sealed class EnvironmentOverrideTests
{
    [Fact]
    public void TopLevelScalar_Overridden()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid(SampleConfigs.Minimal, new Dictionary<string, string> { ["GATEWAY_WORKERS"] = "2" });

        Assert.Equal(2, config.Workers);
    }

    [Fact]
    public void NestedKeyAbsentFromFile_SetWithItsType()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid(SampleConfigs.Minimal, new Dictionary<string, string>
        {
            ["GATEWAY_LIMITS__MAXBODYBYTES"] = "100",
            ["GATEWAY_SHUTDOWN__LISTENERCLOSEDELAYMS"] = "2000",
        });

        Assert.Equal(100, config.Limits.MaxBodyBytes);
        Assert.Equal(2000, config.Shutdown.ListenerCloseDelayMs);
        Assert.Equal(8192, config.Limits.MaxRequestLineBytes);
    }

    [Fact]
    public void ArrayIndex_ReplacesAndAppendsItems()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid(SampleConfigs.Minimal, new Dictionary<string, string>
        {
            ["GATEWAY_CLUSTERS__BACKEND__ENDPOINTS__0"] = "127.0.0.1:9001",
            ["GATEWAY_CLUSTERS__BACKEND__ENDPOINTS__1"] = "127.0.0.1:9002",
            ["GATEWAY_LISTENERS__0__PORT"] = "8081",
        });

        Assert.Equal(["127.0.0.1:9001", "127.0.0.1:9002"], config.Clusters["backend"].Endpoints);
        Assert.Equal(8081, config.Listeners[0].Port);
    }

    [Fact]
    public void NewMapEntryAndNewListItem_Created()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid(SampleConfigs.Minimal, new Dictionary<string, string>
        {
            ["GATEWAY_CLUSTERS__audit__ENDPOINTS"] = "10.0.0.1:80, 10.0.0.2:80",
            ["GATEWAY_CLUSTERS__audit__LOADBALANCING"] = "leastRequest",
            ["GATEWAY_LISTENERS__1__NAME"] = "second",
            ["GATEWAY_LISTENERS__1__PORT"] = "0",
        });

        var audit = config.Clusters["audit"];
        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80"], audit.Endpoints);
        Assert.Equal(Gateway.Proxy.Upstream.LoadBalancing.LeastRequest, audit.LoadBalancing);
        Assert.Equal(("second", 0), (config.Listeners[1].Name, config.Listeners[1].Port));
    }

    [Fact]
    public void PluginConfigurationKey_KeepsTheTypeOfTheValueItReplaces()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        var config = dir.LoadValid("""
            {
              "listeners": [{ "name": "public", "port": 0 }],
              "plugins": { "rate-limit": { "module": "p.wasm", "configuration": { "limit": 100, "strict": false, "redis": "default" } } }
            }
            """,
            new Dictionary<string, string>
            {
                ["GATEWAY_PLUGINS__RATE_LIMIT__CONFIGURATION__LIMIT"] = "5",
                ["GATEWAY_PLUGINS__RATE_LIMIT__CONFIGURATION__STRICT"] = "true",
                ["GATEWAY_PLUGINS__RATE_LIMIT__CONFIGURATION__REDIS"] = "cache",
                ["GATEWAY_PLUGINS__RATE_LIMIT__FAILUREPOLICY"] = "open",
            });

        var plugin = config.Plugins["rate-limit"];
        Assert.Equal("""{"limit":5,"strict":true,"redis":"cache"}""", plugin.Configuration);
        Assert.Equal(Gateway.Plugins.Runtime.FailurePolicy.Open, plugin.FailurePolicy);
    }

    [Fact]
    public void ObjectValuedKey_AcceptsJson()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid(SampleConfigs.Minimal, new Dictionary<string, string>
        {
            ["GATEWAY_ADMIN"] = """{ "address": "127.0.0.1", "port": 0 }""",
        });

        Assert.Equal(0, config.Admin.Port);
    }

    [Fact]
    public void StatementShorthand_OverriddenBySqlText()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid("""
            {
              "listeners": [{ "name": "public", "port": 0 }],
              "databases": { "accounts": { "connectionString": "Host=pg", "statements": { "find": "SELECT 1" } } }
            }
            """,
            new Dictionary<string, string> { ["GATEWAY_DATABASES__ACCOUNTS__STATEMENTS__FIND"] = "SELECT 2" });

        Assert.Equal("SELECT 2", config.Databases["accounts"].Statements["find"].Sql);
    }

    [Fact]
    public void UnrelatedGatewayVariables_Ignored()
    {
        using var dir = new TempFolder("gateway-config-");

        // GATEWAY_CONFIG names the file; the rest are what Kubernetes injects for a Service named "gateway".
        var config = dir.LoadValid(SampleConfigs.Minimal, new Dictionary<string, string>
        {
            ["GATEWAY_CONFIG"] = "/etc/gateway/gateway.json",
            ["GATEWAY_PORT"] = "tcp://10.0.0.1:8080",
            ["GATEWAY_SERVICE_HOST"] = "10.0.0.1",
            ["GATEWAY_PORT_8080_TCP_ADDR"] = "10.0.0.1",
            ["PATH"] = "/usr/bin",
        });

        Assert.Equal(0, config.Workers);
    }

    [Theory]
    [InlineData("GATEWAY_WORKERS", "two", "workers: \"two\" is not an integer (environment variable GATEWAY_WORKERS)")]
    [InlineData("GATEWAY_LIMITS__MAXBODY", "1", "limits: unknown key \"MAXBODY\" (environment variable GATEWAY_LIMITS__MAXBODY)")]
    [InlineData("GATEWAY_LISTENERS__X__PORT", "1", "listeners: \"X\" is not an array index (environment variable GATEWAY_LISTENERS__X__PORT)")]
    [InlineData("GATEWAY_WORKERS__X", "1", "workers: is a single value and has no key \"X\" (environment variable GATEWAY_WORKERS__X)")]
    [InlineData("GATEWAY_LISTENERS__0__PORT", "99999", "listeners[0].port: 99999 is not a port (0-65535, 0 for any free port)")]
    [InlineData("GATEWAY_LISTENERS__2__PORT", "1", "listeners[1]: must not be null")]
    public void BadOverride_ReportedWithItsVariable(string name, string value, string expected)
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load(SampleConfigs.Minimal, new Dictionary<string, string> { [name] = value });

        Assert.Null(result.Config);
        Assert.Contains(expected, result.Errors);
    }
}
