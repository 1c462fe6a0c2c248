using Gateway.Testing;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// The C SDK's RESP and SQL codecs (plugins/sdk/c/gateway_ext.h) against the byte examples of the ABI
/// reference: plugins/sdk/c/test/gateway_ext_test.c compiled natively with clang-14 and run.
/// </summary>
public sealed class CSdkCodecTests
{
    [Fact]
    public async Task GatewayExtHeader_CodecsMatchTheAbiExamplesAndRejectTruncatedInput()
    {
        string sdk = Path.Combine(FirstPartyPluginBuild.RepoRoot, "plugins", "sdk", "c");
        using var folder = new TempFolder("gateway-ext-test-");
        string binary = folder.PathOf("gateway_ext_test");
        var (compiled, compileOutput) = await CommandRun.RunAsync("clang-14", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-attributes",
            "-I", sdk, Path.Combine(sdk, "test", "gateway_ext_test.c"), "-o", binary],
            limit: TimeSpan.FromMinutes(2));
        Assert.True(compiled == 0, compileOutput);

        var (exit, output) = await CommandRun.RunAsync(binary, []);

        Assert.True(exit == 0, output);
        Assert.Contains("all checks passed", output, StringComparison.Ordinal);
    }
}
