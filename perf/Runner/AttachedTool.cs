using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Gateway.Perf.Runner;

/// <summary>
/// A `perf` subcommand attached to a running process (`-p PID`) for the length of one load phase, stopped with
/// SIGINT as an operator would press Ctrl+C, so it writes its summary or data file. Started and stopped by PID.
/// </summary>
public sealed partial class AttachedTool : IDisposable
{
    // perf needs a moment to open its events on every thread of the target before the load starts.
    private static readonly TimeSpan AttachTime = TimeSpan.FromMilliseconds(600);
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private AttachedTool(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Starts `perf ARGS` and waits until it has had time to attach; null with a reason if it could not start.</summary>
    public static AttachedTool? Start(IEnumerable<string> arguments, string workingDirectory, out string? problem)
    {
        var info = new ProcessStartInfo("perf")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        try
        {
            var tool = new AttachedTool(Process.Start(info)!);
            Thread.Sleep(AttachTime);
            if (tool._process.HasExited)
            {
                problem = "perf exited at once: " + tool.Finish();
                return null;
            }
            problem = null;
            return tool;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            problem = "perf: " + e.Message;
            return null;
        }
    }

    /// <summary>Stops the tool (SIGINT) and returns everything it printed.</summary>
    public string Finish()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigInt);
            if (!_process.WaitForExit(30_000))
            {
                _process.Kill();
            }
        }
        _process.WaitForExit();
        return (_stdout.Result + _stderr.Result).Trim();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private const int SigInt = 2;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
