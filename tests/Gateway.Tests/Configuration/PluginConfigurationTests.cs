using System.Text;
using Gateway.Testing;

namespace Gateway.Tests.Configuration;

public sealed class PluginConfigurationTests
{
    [Fact]
    public void StringConfiguration_PassedAsItsExactValue()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        // Escapes are JSON's own: the guest gets the characters they stand for, nothing re-encoded.
        var config = dir.LoadValid(WithConfiguration("""
            "  rate=5\n\ttab \"quoted\" back\\slash é 日本 \u00e9 \ud83d\ude00 {\"not\": \"parsed\"} "
            """));

        var expected = "  rate=5\n\ttab \"quoted\" back\\slash é 日本 é 😀 {\"not\": \"parsed\"} ";
        Assert.Equal(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(config.Plugins["p"].Configuration));
    }

    [Fact]
    public void ObjectConfiguration_PassedAsCompactJson()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        var config = dir.LoadValid(WithConfiguration("""
            {
              "name": "café 日本",
              "limit": 1.50,
              "big": 12345678901234567890,
              "list": [ 1, true, null, { "a" : "x\"y" } ],
              "html": "<b>&'"
            }
            """));

        Assert.Equal(
            """{"name":"café 日本","limit":1.50,"big":12345678901234567890,"list":[1,true,null,{"a":"x\"y"}],"html":"<b>&'"}""",
            config.Plugins["p"].Configuration);
    }

    [Fact]
    public void ArrayConfiguration_PassedAsCompactJson()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        var config = dir.LoadValid(WithConfiguration("""[ "a", 2 ]"""));

        Assert.Equal("""["a",2]""", config.Plugins["p"].Configuration);
    }

    [Theory]
    [InlineData("null", "")]
    [InlineData("\"\"", "")]
    [InlineData("42", "42")]
    [InlineData("true", "true")]
    public void ScalarConfiguration_PassedAsText(string json, string expected)
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "\0asm");

        var config = dir.LoadValid(WithConfiguration(json));

        Assert.Equal(expected, config.Plugins["p"].Configuration);
    }

    [Fact]
    public void ModulePath_ResolvedAgainstConfigFolder()
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("plugins/p.wasm", "\0asm");

        var config = dir.LoadValid("""
            { "listeners": [{ "name": "public", "port": 0 }], "plugins": { "p": { "module": "plugins/../plugins/p.wasm" } } }
            """);

        Assert.Equal("plugins/../plugins/p.wasm", config.Plugins["p"].Module);
        Assert.Equal(Path.Combine(dir.Path, "plugins", "p.wasm"), config.Plugins["p"].ModulePath);
    }

    private static string WithConfiguration(string configuration) => $$"""
        {
          "listeners": [{ "name": "public", "port": 0 }],
          "plugins": { "p": { "module": "p.wasm", "rootId": "root", "vmId": "vm", "configuration": {{configuration}} } }
        }
        """;
}
