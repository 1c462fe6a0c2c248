namespace Gateway.Testing;

/// <summary>Locates the repository (the folder holding Gateway.sln) and its build outputs from a test's bin folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string PluginsDir => Path.Combine(Root, "artifacts", "plugins");

    public static string AotBinary => Path.Combine(Root, "artifacts", "bin", "gateway");

    /// <summary>A compiled test module (artifacts/plugins/testdata/NAME.wasm); fails the test, naming the make target, when it is missing.</summary>
    public static string TestModule(string name)
    {
        string path = Path.Combine(PluginsDir, "testdata", name + ".wasm");
        Xunit.Assert.True(File.Exists(path), $"{path} is missing: run `make plugins`");
        return path;
    }

    private static string FindRoot()
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
