using Gateway.Testing;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// Builds the first-party plugins once per test run with plugins/Makefile (a no-op when they are up to
/// date) and hands out their paths, so a test never passes against a stale or missing module.
/// </summary>
public static class FirstPartyPluginBuild
{
    public static readonly string[] Modules = ["passthrough", "add_header", "rate_limit", "api_key", "ext_echo"];

    /// <summary>A build from scratch (npm packages, every module) takes a minute or two; one that hangs fails the run.</summary>
    private static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(10);

    private static readonly Lazy<string> Directory = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The path of artifacts/plugins/&lt;name&gt;.wasm, built if needed.</summary>
    public static string PathOf(string module) => Path.Combine(Directory.Value, module + ".wasm");

    private static string Build()
    {
        string plugins = Path.Combine(RepoRoot, "plugins");
        // Only our targets: the host's test plugins in plugins/testdata have their own tests.
        string[] targets = [.. Modules.Select(module => "../artifacts/plugins/" + module + ".wasm")];
        var (exit, output) = CommandRun.RunAsync("make", ["-C", plugins, .. targets], limit: BuildLimit).GetAwaiter().GetResult();
        if (exit != 0)
        {
            throw new InvalidOperationException("make -C plugins failed:\n" + output);
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
