using Gateway.Plugins.Runtime;
using Gateway.Testing;

using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>Compiled code cached on disk: written on first load, used as it is on the next, replaced when unusable.</summary>
public sealed class ModuleCacheTests
{
    [Fact]
    public async Task FirstLoadWritesTheEntry_NextLoadUsesIt_AndAnUnusableEntryIsReplaced()
    {
        using var folder = new TempFolder("gateway-module-cache-");
        string directory = folder.PathOf("cache");
        var plugin = Plugin("go", "sdk/go_wasip1", "");

        Load(plugin, directory, out _);
        string entry = Assert.Single(Directory.GetFiles(directory, "*.cwasm"));
        Assert.StartsWith(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(plugin.ModulePath))), Path.GetFileName(entry), StringComparison.Ordinal);
        var written = File.GetLastWriteTimeUtc(entry);

        await Task.Delay(50, TestContext.Current.CancellationToken);
        Load(plugin, directory, out var logs);
        Assert.Equal(written, File.GetLastWriteTimeUtc(entry));
        Assert.False(logs.Contains("unusable"));

        File.WriteAllBytes(entry, "not compiled code"u8.ToArray());
        Load(plugin, directory, out logs);
        Assert.True(logs.Contains("unusable"));
        Assert.True(new FileInfo(entry).Length > 1000);
    }

    [Fact]
    public void UnwritableDirectory_CompilesAnywayWithOneWarning()
    {
        using var folder = new TempFolder("gateway-module-cache-");
        string file = folder.PathOf("a-file");
        File.WriteAllText(file, "");
        Load(Plugin("go", "sdk/go_wasip1", ""), Path.Combine(file, "cache"), out var logs);
        Assert.Single(logs.Lines, l => l.Message.Contains("cannot be written", StringComparison.Ordinal));
    }

    private static void Load(PluginOptions plugin, string cache, out CapturingLoggerFactory logs)
    {
        logs = new CapturingLoggerFactory();
        using var runtime = PluginRuntime.Load([plugin], new PluginServices { LoggerFactory = logs, ModuleCacheDirectory = cache }, out var errors);
        Assert.Empty(errors);
    }
}
