using System.Text.Json;
using Gateway.Backends;
using Gateway.Configuration;
using Gateway.Testing;

namespace Gateway.Tests.Configuration;

public sealed class ConfigRedactionTests
{
    [Fact]
    public void RedactedJson_ContainsNoSecret()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");
        dir.Write("token", "file-token-8c1f\n");
        dir.Write("redis-password", "redis-pw-77aa\n");

        var config = dir.LoadValid("""
            {
              "listeners": [{ "name": "public", "port": 0 }],
              "clusters": { "backend": { "endpoints": ["${env:UPSTREAM}:80"] } },
              "routes": [{ "name": "r", "cluster": "backend", "plugins": ["p"] }],
              "plugins": { "p": { "module": "p.wasm",
                                  "configuration": { "token": "${file:token}", "header": "x-api-key" },
                                  "vmConfiguration": "key=${env:VM_KEY}",
                                  "environment": { "PAYMENTS_API": "env-value-6a2b", "EMPTY": "" },
                                  "redis": { "inline": { "user": "rl", "password": "plugin-pw-0f3e" } } } },
              "redis": {
                "inline": { "endpoints": ["127.0.0.1:6379"], "password": "inline-pw-3b9d" },
                "mounted": { "endpoints": ["127.0.0.1:6379"], "passwordFile": "redis-password" }
              },
              "databases": {
                "accounts": { "connectionString": "Host=pg;Password='conn;pw-91e0';Username=gw", "password": "${env:PG_PASSWORD}" }
              }
            }
            """,
            new Dictionary<string, string>
            {
                ["UPSTREAM"] = "upstream-host-5d2e",
                ["VM_KEY"] = "vm-key-44c3",
                ["PG_PASSWORD"] = "pg-pw-e7a1",
            });

        var json = ConfigRedaction.ToRedactedJson(config);

        foreach (var secret in new[] { "file-token-8c1f", "redis-pw-77aa", "inline-pw-3b9d", "conn;pw-91e0", "pw-91e0", "upstream-host-5d2e", "vm-key-44c3", "pg-pw-e7a1", "plugin-pw-0f3e", "env-value-6a2b" })
        {
            Assert.DoesNotContain(secret, json);
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("***:80", root.GetProperty("clusters").GetProperty("backend").GetProperty("endpoints")[0].GetString());
        var plugin = root.GetProperty("plugins").GetProperty("p");
        // Inline plugin configuration may hold credentials under any name: only its digest and length are shown.
        Assert.Equal(PluginConfigurationDigest.Describe(config.Plugins["p"].Configuration), plugin.GetProperty("configuration").GetString());
        Assert.StartsWith("sha256:", plugin.GetProperty("configuration").GetString());
        Assert.EndsWith($"({config.Plugins["p"].Configuration.Length} bytes)", plugin.GetProperty("configuration").GetString());
        Assert.StartsWith("sha256:", plugin.GetProperty("vmConfiguration").GetString());
        // Environment values are a plugin's other channel for secrets: names shown, values as digests.
        var environment = plugin.GetProperty("environment");
        Assert.Equal(PluginConfigurationDigest.Describe("env-value-6a2b"), environment.GetProperty("PAYMENTS_API").GetString());
        Assert.Equal("", environment.GetProperty("EMPTY").GetString());
        Assert.Equal("***", plugin.GetProperty("redis").GetProperty("inline").GetProperty("password").GetString());
        Assert.Equal("***", root.GetProperty("redis").GetProperty("inline").GetProperty("password").GetString());
        Assert.Equal(config.Redis["mounted"].PasswordFile, root.GetProperty("redis").GetProperty("mounted").GetProperty("passwordFile").GetString());
        var accounts = root.GetProperty("databases").GetProperty("accounts");
        Assert.Equal("Host=pg;Password=***;Username=gw", accounts.GetProperty("connectionString").GetString());
        Assert.Equal("***", accounts.GetProperty("password").GetString());
    }

    [Fact]
    public void RedactedJson_ShowsDefaultsAndRoundTripsThroughTheLoader()
    {
        using var dir = new TempFolder("gateway-config-");
        var config = dir.LoadValid(SampleConfigs.Minimal);

        var json = ConfigRedaction.ToRedactedJson(config);

        Assert.Contains("\"maxBodyBytes\": 10485760", json);
        Assert.Contains("\"loadBalancing\": \"roundRobin\"", json);
        // What /config shows is itself a valid config file that loads to the same values.
        var reloaded = dir.LoadValid(json);
        Assert.Equal(config.Limits, reloaded.Limits);
        Assert.Equal(config.Listeners, reloaded.Listeners);
        Assert.Equal(config.Clusters["backend"].Endpoints, reloaded.Clusters["backend"].Endpoints);
    }

    [Theory]
    [InlineData("Host=pg;Password=abc", "Host=pg;Password=***")]
    [InlineData("Host=pg; pwd = abc ;Username=u", "Host=pg;Password=***;Username=u")]
    [InlineData("PSW=\"a;\"\"b\";Host=pg", "Password=***;Host=pg")]
    [InlineData("Host=pg;Username=u", "Host=pg;Username=u")]
    [InlineData("Host=pg;SSL Password=key-pass-1;SSL Key=/k.pem", "Host=pg;SSL Password=***;SSL Key=/k.pem")]
    [InlineData("Host=pg;Password=a;SslPassword=b", "Host=pg;Password=***;SSL Password=***")]
    [InlineData("not a connection string ' at all", "***")]
    [InlineData("Server=db;User ID=gw;Pwd='s;e''cret';SSL Mode=Required", "Server=db;User ID=gw;Password=***;SSL Mode=Required", "mysql")]
    [InlineData("Server=db;password=abc", "Server=db;Password=***", "mysql")]
    public void ConnectionStringPassword_Masked(string connectionString, string expected, string provider = "postgresql")
    {
        var config = new GatewayConfig
        {
            Databases = new Dictionary<string, DatabaseConfig>
            {
                ["d"] = new() { ConnectionString = connectionString, Provider = provider == "mysql" ? DatabaseProvider.MySql : DatabaseProvider.PostgreSql },
            },
        };

        using var document = JsonDocument.Parse(ConfigRedaction.ToRedactedJson(config));

        Assert.Equal(expected, document.RootElement.GetProperty("databases").GetProperty("d").GetProperty("connectionString").GetString());
    }

    [Theory]
    [InlineData("Server=db;User ID=gw;Password=my-pw-1;SslKeyPassword=ssl-pw-2")]
    [InlineData("Server=db;pwd=my-pw-1;Ssl Key Password=ssl-pw-2")]
    public void MySqlConnectionStringSecrets_Masked(string connectionString)
    {
        string masked = ConnectionStringRedaction.Redact("mysql", connectionString);
        Assert.DoesNotContain("my-pw-1", masked);
        Assert.DoesNotContain("ssl-pw-2", masked);
        Assert.Contains("server=db", masked, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void SecretsSetThroughEnvironmentOverrides_AreMasked()
    {
        using var dir = new TempFolder("gateway-config-");
        var config = dir.LoadValid(
            """
            {
              "listeners": [{ "name": "public", "port": 0 }],
              "clusters": { "backend": { "endpoints": ["127.0.0.1:80"] } },
              "routes": [{ "name": "r", "cluster": "backend" }],
              "redis": { "cache": { "endpoints": ["127.0.0.1:6379"] } },
              "databases": { "accounts": { "connectionString": "Host=pg;Username=gw" } }
            }
            """,
            new Dictionary<string, string>
            {
                ["GATEWAY_REDIS__CACHE__PASSWORD"] = "override-pw-1f2e",
                ["GATEWAY_DATABASES__ACCOUNTS__CONNECTIONSTRING"] = "Host=pg;Username=gw;SSL Password=override-ssl-9a8b",
            });

        var json = ConfigRedaction.ToRedactedJson(config);

        Assert.DoesNotContain("override-pw-1f2e", json);
        Assert.DoesNotContain("override-ssl-9a8b", json);
    }
}
