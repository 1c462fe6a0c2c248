using System.Runtime.InteropServices;
using Gateway.Configuration;
using Gateway.Testing;

namespace Gateway.Tests.Configuration;

public sealed partial class ConfigWatcherTests
{
    /// <summary>Generous: the debounce is 200 ms, but CI machines are shared and slow.</summary>
    private static readonly TimeSpan Expected = TimeSpan.FromSeconds(10);

    /// <summary>How long a change that should not be seen is given to show up anyway (five debounces).</summary>
    private static readonly TimeSpan Unexpected = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task InPlaceWrite_Fires()
    {
        using var dir = new TempFolder("gateway-config-");
        var config = dir.Write("gateway.json", "{}");
        using var changes = new ChangeCounter();
        using var watcher = new ConfigWatcher([config], changes.OnChange);

        await File.WriteAllTextAsync(config, """{ "workers": 2 }""", TestContext.Current.CancellationToken);

        Assert.True(await changes.WaitAsync(Expected), "no callback after an in-place write");
    }

    [Fact]
    public async Task RenameOverFile_Fires()
    {
        using var dir = new TempFolder("gateway-config-");
        var config = dir.Write("gateway.json", "{}");
        using var changes = new ChangeCounter();
        using var watcher = new ConfigWatcher([config], changes.OnChange);

        // How editors and config-management tools save: write a temporary file, rename it over the old one.
        var temporary = dir.Write(".gateway.json.swp", """{ "workers": 2 }""");
        File.Move(temporary, config, overwrite: true);

        Assert.True(await changes.WaitAsync(Expected), "no callback after a rename over the file");
    }

    [Fact]
    public async Task KubernetesDataSymlinkSwap_Fires()
    {
        using var dir = new TempFolder("gateway-config-");
        var mount = Path.Combine(dir.Path, "secrets");
        // The kubelet's atomic writer: files live in a timestamped folder, "..data" points at it, and
        // each visible file is a symlink through "..data".
        WriteVersion(mount, "..2026_11_29_18_00_00.000000001", "first\n");
        File.CreateSymbolicLink(Path.Combine(mount, "..data"), "..2026_11_29_18_00_00.000000001");
        var password = Path.Combine(mount, "password");
        File.CreateSymbolicLink(password, Path.Combine("..data", "password"));
        Assert.Equal("first\n", await File.ReadAllTextAsync(password, TestContext.Current.CancellationToken));
        using var changes = new ChangeCounter();
        using var watcher = new ConfigWatcher([password], changes.OnChange);

        // An update: a new timestamped folder, a "..data_tmp" symlink to it renamed over "..data", the old folder removed.
        WriteVersion(mount, "..2026_11_29_18_05_00.000000002", "second\n");
        File.CreateSymbolicLink(Path.Combine(mount, "..data_tmp"), "..2026_11_29_18_05_00.000000002");
        Assert.Equal(0, Rename(Path.Combine(mount, "..data_tmp"), Path.Combine(mount, "..data")));
        Directory.Delete(Path.Combine(mount, "..2026_11_29_18_00_00.000000001"), recursive: true);

        Assert.True(await changes.WaitAsync(Expected), "no callback after the ..data swap");
        Assert.Equal("second\n", await File.ReadAllTextAsync(password, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task SymlinkToFileElsewhere_FiresOnWriteToTarget()
    {
        using var dir = new TempFolder("gateway-config-");
        var target = dir.Write("real/gateway.json", "{}");
        var link = Path.Combine(dir.Path, "etc", "gateway.json");
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, target);
        using var changes = new ChangeCounter();
        using var watcher = new ConfigWatcher([link], changes.OnChange);

        // The link's own folder sees nothing: only the target's folder does.
        await File.WriteAllTextAsync(target, """{ "workers": 2 }""", TestContext.Current.CancellationToken);

        Assert.True(await changes.WaitAsync(Expected), "no callback after writing the symlink's target");
    }

    [Fact]
    public async Task UnrelatedFileInSameFolder_DoesNotFire()
    {
        using var dir = new TempFolder("gateway-config-");
        var config = dir.Write("gateway.json", "{}");
        using var changes = new ChangeCounter();
        using var watcher = new ConfigWatcher([config], changes.OnChange);

        var other = dir.Write("other.json", "{}");
        await File.WriteAllTextAsync(other, "{ }", TestContext.Current.CancellationToken);
        File.Delete(other);

        Assert.False(await changes.WaitAsync(Unexpected), "callback for a file that is not watched");
        // The watcher was live all along: the watched file is seen.
        await File.WriteAllTextAsync(config, """{ "workers": 2 }""", TestContext.Current.CancellationToken);
        Assert.True(await changes.WaitAsync(Expected), "no callback after an in-place write");
    }

    [Fact]
    public async Task Update_SwitchesTheWatchedFiles()
    {
        using var dir = new TempFolder("gateway-config-");
        var first = dir.Write("a/first", "1");
        var second = dir.Write("b/second", "1");
        using var changes = new ChangeCounter();
        using var watcher = new ConfigWatcher([first], changes.OnChange);

        watcher.Update([second]);
        await File.WriteAllTextAsync(first, "2", TestContext.Current.CancellationToken);

        Assert.False(await changes.WaitAsync(Unexpected), "callback for a file no longer watched");
        await File.WriteAllTextAsync(second, "2", TestContext.Current.CancellationToken);
        Assert.True(await changes.WaitAsync(Expected), "no callback for a newly watched file");
    }

    [Fact]
    public async Task FileInFolderNotYetMounted_FiresWhenItAppears()
    {
        using var dir = new TempFolder("gateway-config-");
        var secret = Path.Combine(dir.Path, "not-yet", "password");
        using var changes = new ChangeCounter();
        using var watcher = new ConfigWatcher([secret], changes.OnChange);

        dir.Write(Path.Combine("not-yet", "password"), "pw");

        Assert.True(await changes.WaitAsync(Expected), "no callback when the folder and file appeared");
    }

    [Fact]
    public async Task PasswordFileBehindDataSymlink_ReloadSeesRotatedSecret()
    {
        using var dir = new TempFolder("gateway-config-");
        var mount = Path.Combine(dir.Path, "secrets");
        WriteVersion(mount, "..2026_11_29_18_00_00.000000001", "first\n");
        File.CreateSymbolicLink(Path.Combine(mount, "..data"), "..2026_11_29_18_00_00.000000001");
        File.CreateSymbolicLink(Path.Combine(mount, "password"), Path.Combine("..data", "password"));
        var json = """
            {
              "listeners": [{ "name": "public", "port": 0 }],
              "redis": { "r": { "endpoints": ["127.0.0.1:6379"], "password": "${file:secrets/password}" } }
            }
            """;
        var loaded = dir.Load(json);
        Assert.Equal("first", loaded.Config!.Redis["r"].Password);
        using var changes = new ChangeCounter();
        using var watcher = new ConfigWatcher(loaded.ReferencedFiles, changes.OnChange);

        WriteVersion(mount, "..2026_11_29_18_05_00.000000002", "second\n");
        File.CreateSymbolicLink(Path.Combine(mount, "..data_tmp"), "..2026_11_29_18_05_00.000000002");
        Assert.Equal(0, Rename(Path.Combine(mount, "..data_tmp"), Path.Combine(mount, "..data")));

        Assert.True(await changes.WaitAsync(Expected), "no callback after the secret rotated");
        Assert.Equal("second", ConfigLoader.Load(dir.ConfigPath, new Dictionary<string, string>()).Config!.Redis["r"].Password);
    }

    private static void WriteVersion(string mount, string version, string password)
    {
        Directory.CreateDirectory(Path.Combine(mount, version));
        File.WriteAllText(Path.Combine(mount, version, "password"), password);
    }

    /// <summary>rename(2): replaces the "..data" symlink atomically, as the kubelet does; File.Move would follow it.</summary>
    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string oldPath, string newPath);

    private sealed class ChangeCounter : IDisposable
    {
        private readonly SemaphoreSlim _changes = new(0);

        public void OnChange() => _changes.Release();

        public Task<bool> WaitAsync(TimeSpan timeout) => _changes.WaitAsync(timeout);

        public void Dispose() => _changes.Dispose();
    }
}
