using System.Diagnostics;

namespace Gateway.Testing;

/// <summary>
/// A command a test runs to its end for its exit code and what it printed (<c>gateway --check-config</c>, a build, a
/// tool). Both streams are read at once, so a child that fills one while the other is being read cannot stall; its
/// input, if any, is written meanwhile, and its stdin is closed after, so it never waits on the test host's. A child
/// that has not finished within its limit is killed with every process it started and fails the test, so it neither
/// hangs the suite nor outlives it.
/// </summary>
public static class CommandRun
{
    private static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(30);

    /// <summary>How long a killed child is given to be reaped before the timeout is reported anyway.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/>; the output is its stdout, then its stderr.</summary>
    /// <param name="input">Written to the child's stdin, which is then closed.</param>
    /// <param name="limit">How long the child may run; 30 s when not given.</param>
    /// <param name="environment">
    /// When given, the child's whole environment (as a container sees only its image's and pod's), not additions to the
    /// test host's.
    /// </param>
    /// <param name="workingDirectory">The child's working directory; the test host's when not given.</param>
    public static async Task<(int Exit, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, string? input = null,
        TimeSpan? limit = null, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var (exit, stdout, stderr) = await CaptureAsync(fileName, arguments, input, limit, environment, workingDirectory).ConfigureAwait(false);
        return (exit, stdout + stderr);
    }

    /// <summary>
    /// As <see cref="RunAsync"/>, with stdout and stderr apart: for a tool whose stdout is parsed, or whose stderr alone
    /// says why it failed. Awaits nothing on the caller's context, so a caller that cannot be async may block on it.
    /// </summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> CaptureAsync(string fileName, IEnumerable<string> arguments,
        string? input = null, TimeSpan? limit = null, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        TimeSpan bound = limit ?? DefaultLimit;
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? "",
        };
        if (environment is not null)
        {
            info.Environment.Clear();
            foreach (var (name, value) in environment)
            {
                info.Environment[name] = value;
            }
        }
        // A .NET child's debugger pipes and diagnostics socket are removed only on a clean exit, not after a kill. Set in a
        // given environment too: only the .NET runtime reads it, and it changes nothing a test asserts.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Task written = WriteInputAsync(process.StandardInput, input);
        using var deadline = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            // A process the child started and left running may hold its pipes open: their ends come within the limit too.
            await Task.WhenAll(stdout, stderr, written).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(KillGrace).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw new TimeoutException($"{fileName} {string.Join(' ', info.ArgumentList)} did not finish within {bound.TotalSeconds} s");
        }
        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Writes <paramref name="input"/> (if any) and closes stdin, so the child sees the end of its input.</summary>
    private static async Task WriteInputAsync(StreamWriter stdin, string? input)
    {
        try
        {
            await using (stdin.ConfigureAwait(false))
            {
                if (input is not null)
                {
                    await stdin.WriteAsync(input).ConfigureAwait(false);
                }
            }
        }
        catch (IOException)
        {
            // The child closed its end before reading it all: what it made of that shows in its exit code and output.
        }
    }
}
