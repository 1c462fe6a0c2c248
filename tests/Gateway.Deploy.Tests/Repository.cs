// Containers, mount namespaces and the published binary: these tests are Linux-only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Gateway.Deploy.Tests;

/// <summary>The checkout these tests were built from, found from the test binary's location.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relativePath) => Path.Combine(Root, relativePath);

    /// <summary>The published AOT binary; the tests that need it fail with the command that makes it.</summary>
    public static string PublishedGateway()
    {
        string path = PathOf("artifacts/bin/gateway");
        Assert.True(File.Exists(path), $"{path} is missing: run `make publish` (and `make plugins`) first.");
        return path;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Gateway.sln above {AppContext.BaseDirectory}.");
    }
}
