using Gateway.Testing;

namespace Gateway.Tests.Configuration;

public sealed class ReferenceResolutionTests
{
    private const string WithRedis = """
        {
          "listeners": [{ "name": "public", "port": "${env:PORT}" }],
          "redis": { "default": { "endpoints": ["${env:REDIS_HOST}:6379"], "user": "${file:secrets/user}", "password": "${file:SECRET_PATH}" } }
        }
        """;

    [Fact]
    public void EnvAndFileReferences_Resolved()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("secrets/user", "gateway\n");
        var secret = dir.Write("secrets/password", "s3cr3t-ü\r\n");

        var config = dir.LoadValid(WithRedis.Replace("SECRET_PATH", secret), new Dictionary<string, string>
        {
            ["PORT"] = "8088",
            ["REDIS_HOST"] = "10.1.2.3",
        });

        Assert.Equal(8088, config.Listeners[0].Port);
        var redis = config.Redis["default"];
        Assert.Equal(["10.1.2.3:6379"], redis.Endpoints);
        Assert.Equal("gateway", redis.User);
        Assert.Equal("s3cr3t-ü", redis.Password);
    }

    [Fact]
    public void FileContent_LosesOnlyOneTrailingNewline()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("two-newlines", "value\n\n");

        var config = dir.LoadValid("""
            { "listeners": [{ "name": "${file:two-newlines}", "port": 0 }] }
            """);

        Assert.Equal("value\n", config.Listeners[0].Name);
    }

    [Fact]
    public void FileReference_ListedInReferencedFiles()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("secrets/user", "gateway");
        var secret = dir.Write("secrets/password", "pw");

        var result = dir.Load(WithRedis.Replace("SECRET_PATH", secret), new Dictionary<string, string> { ["PORT"] = "1", ["REDIS_HOST"] = "h" });

        Assert.Equal([dir.ConfigPath, Path.Combine(dir.Path, "secrets", "user"), secret], result.ReferencedFiles);
    }

    [Fact]
    public void MissingReferences_EachReportedAtItsKey()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load(WithRedis.Replace("SECRET_PATH", "/nonexistent/password"));

        Assert.Null(result.Config);
        Assert.Equal(
            [
                "listeners[0].port: environment variable PORT is not set",
                "redis.default.endpoints[0]: environment variable REDIS_HOST is not set",
                $"redis.default.user: cannot read file \"{Path.Combine(dir.Path, "secrets", "user")}\": no such file",
                "redis.default.password: cannot read file \"/nonexistent/password\": no such file",
            ],
            result.Errors);
        // Files that could not be read are still watched, so their arrival triggers a reload.
        Assert.Contains("/nonexistent/password", result.ReferencedFiles);
    }

    [Fact]
    public void FilePathWithNul_ReportedNotThrown()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load("""
            { "listeners": [{ "name": "${file:a\u0000b}", "port": 0 }] }
            """);

        Assert.Equal(["listeners[0].name: \"a\0b\" is not a file path"], result.Errors);
    }

    [Fact]
    public void DollarDollarBrace_IsALiteral()
    {
        using var dir = new TempFolder("gateway-config-");

        var config = dir.LoadValid("""
            { "listeners": [{ "name": "$${env:X} costs $5 ${env:NAME}", "port": 0 }] }
            """,
            new Dictionary<string, string> { ["NAME"] = "public" });

        Assert.Equal("${env:X} costs $5 public", config.Listeners[0].Name);
    }

    [Fact]
    public void UnterminatedReference_Reported()
    {
        using var dir = new TempFolder("gateway-config-");

        var result = dir.Load("""
            { "listeners": [{ "name": "${env:NAME", "port": 0 }] }
            """);

        Assert.Equal(["listeners[0].name: \"${env:\" has no closing '}'"], result.Errors);
    }

    [Fact]
    public void ReferenceInsidePluginConfiguration_Resolved()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");
        dir.Write("token", "t0k3n\n");

        var config = dir.LoadValid("""
            {
              "listeners": [{ "name": "public", "port": 0 }],
              "plugins": { "p": { "module": "p.wasm", "configuration": { "token": "${file:token}" }, "vmConfiguration": "${env:VM}" } }
            }
            """,
            new Dictionary<string, string> { ["VM"] = "vm-1" });

        Assert.Equal("""{"token":"t0k3n"}""", config.Plugins["p"].Configuration);
        Assert.Equal("vm-1", config.Plugins["p"].VmConfiguration);
    }
}
