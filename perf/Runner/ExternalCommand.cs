using System.Diagnostics;

namespace Gateway.Perf.Runner;

/// <summary>Runs a short-lived tool to completion (initdb, pg_ctl, --version probes) and returns its output.</summary>
public static class ExternalCommand
{
    public static (int ExitCode, string Output) Run(string program, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill();
                process.WaitForExit();
                return (-1, program + " timed out");
            }
            return (process.ExitCode, (stdout.Result + stderr.Result).Trim());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, program + ": " + e.Message);
        }
    }

    /// <summary>Throws with the tool's output when <paramref name="result"/> is a failure; <paramref name="what"/> names the step.</summary>
    public static void Check((int ExitCode, string Output) result, string what)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed: {result.Output}");
        }
    }

    /// <summary>The first line a tool prints for its version, or "unavailable".</summary>
    public static string Version(string program, params string[] arguments)
    {
        var (exit, output) = Run(program, arguments, TimeSpan.FromSeconds(10));
        var line = output.Split('\n')[0].Trim();
        return exit == 0 && line.Length > 0 ? line : "unavailable";
    }
}
