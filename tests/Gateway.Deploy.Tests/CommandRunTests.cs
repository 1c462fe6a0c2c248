using Gateway.Testing;

namespace Gateway.Deploy.Tests;

/// <summary>
/// What this suite asks of <see cref="CommandRun"/> beyond a bounded run: a container-like environment (the child sees
/// only the variables it is given) and the repository as its working directory (scripts take repository-relative paths).
/// </summary>
public sealed class CommandRunTests
{
    [Fact]
    public async Task GivenEnvironment_IsTheChildsWholeEnvironment()
    {
        var environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["GATEWAY_TEST_ONLY"] = "yes" };

        var (exit, output) = await CommandRun.RunAsync("env", [], environment: environment);

        Assert.Equal(0, exit);
        var names = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[..line.IndexOf('=')]).Order(StringComparer.Ordinal);
        Assert.Equal(["DOTNET_EnableDiagnostics", "GATEWAY_TEST_ONLY", "PATH"], names);
    }

    [Fact]
    public async Task GivenWorkingDirectory_IsWhereTheChildRuns()
    {
        using var folder = new TempFolder("gateway-cwd-");

        var (exit, output) = await CommandRun.RunAsync("pwd", [], workingDirectory: folder.Path);

        Assert.Equal(0, exit);
        Assert.Equal(Path.GetFullPath(folder.Path), output.Trim());
    }
}
