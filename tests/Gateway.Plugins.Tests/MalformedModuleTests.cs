using Gateway.Plugins.Runtime;
using Gateway.Testing;

namespace Gateway.Plugins.Tests;

/// <summary>
/// No module, however malformed, throws out of loading: every problem comes back as an error naming the plugin
/// and saying why, on one line (plugins/testdata/malformed, plus byte-level damage made here).
/// </summary>
public sealed class MalformedModuleTests
{
    [Theory]
    [InlineData("malformed/import_global", "env.stack_pointer")]
    [InlineData("malformed/import_memory", "env.memory")]
    [InlineData("malformed/allocator_mistyped", "malloc")]
    [InlineData("malformed/no_memory", "memory")]
    [InlineData("malformed/start_traps", "out of bounds memory access")]
    [InlineData("malformed/configure_traps", "proxy_on_configure trapped: wasm trap: out of bounds memory access")]
    [InlineData("malformed/initialize_exits", "proc_exit(3)")]
    [InlineData("malformed/initialize_recurses", "call stack exhausted")]
    [InlineData("malformed/duplicate_import_mismatch", "twice with different types")]
    [InlineData("malformed/memory_4gib", "65536 pages (4096.0 MiB)")]
    [InlineData("malformed/callback_mistyped", "proxy_on_configure returned false")]
    [InlineData("trap_on_start", "_initialize failed: wasm trap: wasm `unreachable` instruction executed")]
    public void MalformedModule_IsRefusedWithThePluginNamedAndAOneLineReason(string module, string reason)
    {
        var errors = Load(TestPlugins.Path(module));
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.Contains(reason, StringComparison.Ordinal));
        foreach (string error in errors)
        {
            Assert.StartsWith("plugin 'bad': ", error, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error);
            Assert.DoesNotContain("error while executing", error);
        }
    }

    [Fact]
    public void TrapReason_NamesTheAddressAndTheCallback()
    {
        string error = Assert.Single(Load(TestPlugins.Path("malformed/configure_traps")));
        Assert.Contains("0xfffffffc", error);
        Assert.EndsWith("in proxy_on_configure", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad magic")]
    [InlineData("truncated")]
    [InlineData("empty")]
    [InlineData("text")]
    public void DamagedBytes_AreRefusedWithThePluginNamed(string damage)
    {
        byte[] good = File.ReadAllBytes(TestPlugins.Path("sdk/go_wasip1"));
        byte[] bytes = damage switch
        {
            "bad magic" => [.. "\0wsm"u8, .. good.AsSpan(4)],
            "truncated" => good[..(good.Length / 2)],
            "empty" => [],
            _ => "(module (func"u8.ToArray(),
        };
        using var folder = new TempFolder("gateway-malformed-");
        string path = folder.PathOf("damaged.wasm");
        File.WriteAllBytes(path, bytes);
        string error = Assert.Single(Load(path));
        Assert.StartsWith("plugin 'bad': cannot load module", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    private static IReadOnlyList<string> Load(string path)
    {
        var plugin = new PluginOptions { Name = "bad", ModulePath = path, Limits = new PluginLimits { CpuMillisecondsPerCall = 1000 } };
        using var runtime = PluginRuntime.Load([plugin], new PluginServices { LoggerFactory = new CapturingLoggerFactory() }, out var errors);
        return errors;
    }
}
