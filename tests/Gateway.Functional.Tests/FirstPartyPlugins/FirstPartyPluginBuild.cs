using System.Diagnostics;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// Builds the first-party plugins once per test run with plugins/Makefile (a no-op when they are up to
/// date) and hands out their paths, so a test never passes against a stale or missing module.
/// </summary>
public static class FirstPartyPluginBuild
{
    public static readonly string[] Modules = ["passthrough", "add_header", "rate_limit", "api_key", "ext_echo"];

    private static readonly Lazy<string> Directory = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The path of artifacts/plugins/&lt;name&gt;.wasm, built if needed.</summary>
    public static string PathOf(string module) => Path.Combine(Directory.Value, module + ".wasm");

    private static string Build()
    {
        string plugins = Path.Combine(RepoRoot, "plugins");
        var info = new ProcessStartInfo("make") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-C");
        info.ArgumentList.Add(plugins);
        // Only our targets: the host's test plugins in plugins/testdata have their own tests.
        foreach (string module in Modules)
        {
            info.ArgumentList.Add("../artifacts/plugins/" + module + ".wasm");
        }
        using var process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("make -C plugins failed:\n" + stdout.Result + stderr);
        }
        return Path.Combine(RepoRoot, "artifacts", "plugins");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
