using System.Text.Json;
using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class ConfigRedactionTests
{
    [Fact]
    public void RedactedJson_ContainsNoSecret()
    {
        using var dir = new TempConfigDirectory();
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

        foreach (var secret in new[] { "file-token-8c1f", "redis-pw-77aa", "inline-pw-3b9d", "conn;pw-91e0", "pw-91e0", "upstream-host-5d2e", "vm-key-44c3", "pg-pw-e7a1", "plugin-pw-0f3e" })
        {
            Assert.DoesNotContain(secret, json);
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("***:80", root.GetProperty("clusters").GetProperty("backend").GetProperty("endpoints")[0].GetString());
        var plugin = root.GetProperty("plugins").GetProperty("p");
        Assert.Equal("""{"token":"***","header":"x-api-key"}""", plugin.GetProperty("configuration").GetString());
        Assert.Equal("key=***", plugin.GetProperty("vmConfiguration").GetString());
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
        using var dir = new TempConfigDirectory();
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
    [InlineData("Host=pg; pwd = abc ;Username=u", "Host=pg; pwd =***;Username=u")]
    [InlineData("PSW=\"a;\"\"b\";Host=pg", "PSW=***;Host=pg")]
    [InlineData("Host=pg;Username=u", "Host=pg;Username=u")]
    [InlineData("Server=db;User ID=gw;Pwd='s;e''cret';SSL Mode=Required", "Server=db;User ID=gw;Pwd=***;SSL Mode=Required", "mysql")]
    [InlineData("Server=db;password=abc", "Server=db;password=***", "mysql")]
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
}
