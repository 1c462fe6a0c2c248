using System.Diagnostics;

namespace Gateway.Testing;

/// <summary>
/// A command a test runs to its end for its exit code and what it printed (<c>gateway --check-config</c>, <c>--version</c>).
/// Both streams are read at once, so a child that fills one while the other is being read cannot stall; a child that
/// has not exited after 30 s is killed by its PID and fails the test, so it neither hangs the suite nor outlives it.
/// </summary>
public static class CommandRun
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/>; the output is its stdout, then its stderr.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string fileName, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        // A .NET child's debugger pipes and diagnostics socket are removed only on a clean exit, not after a kill.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
            throw new TimeoutException($"{fileName} {string.Join(' ', info.ArgumentList)} did not exit within {Limit.TotalSeconds} s");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
