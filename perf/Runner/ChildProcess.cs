using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Gateway.Perf.Runner;

/// <summary>
/// A process the runner started, pinned to one CPU with taskset (which execs the
/// program, so the PID is the program's own). Output goes to a log file in the
/// run's scratch folder. Stopped by its PID only: SIGTERM, then SIGKILL.
/// </summary>
public sealed partial class ChildProcess : IDisposable
{
    private static readonly List<ChildProcess> Live = [];
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ChildProcess(Process process, StreamWriter log, string logPath)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Where the process serves Prometheus `/metrics`, when it does (a gateway's admin listener).</summary>
    public int? MetricsPort { get; set; }

    /// <param name="under">
    /// The command that runs <c>program</c> instead of it running alone, given the program's path (valgrind for the
    /// instruction census); it may name another copy of the program.
    /// </param>
    public static ChildProcess Start(string name, int cpu, string program, IEnumerable<string> arguments, string logFolder,
        IReadOnlyDictionary<string, string>? environment = null, Func<string, IReadOnlyList<string>>? under = null)
    {
        if (under is not null)
        {
            IReadOnlyList<string> command = under(program);
            program = command[0];
            arguments = command.Skip(1).Concat(arguments).ToList();
        }
        var info = new ProcessStartInfo("taskset")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(cpu.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }
        var logPath = Path.Combine(logFolder, name + ".log");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new ChildProcess(process, log, logPath);
        lock (Live)
        {
            Live.Add(child);
        }
        return child;
    }

    private static void WriteLine(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            log.WriteLine(line);
        }
    }

    /// <summary>The last lines the process wrote, for a "not run" reason.</summary>
    public string Tail(int lines = 3)
    {
        try
        {
            lock (_log)
            {
                _log.Flush();
            }
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var all = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join(" | ", all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public void Stop()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            if (!_process.WaitForExit(3_000))
            {
                _process.Kill();
                _process.WaitForExit(3_000);
            }
        }
        _process.WaitForExit();   // drain the output readers
        lock (Live)
        {
            Live.Remove(this);
        }
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Stop();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    /// <summary>On Ctrl+C or a crash of the runner: stop everything it started, by PID.</summary>
    public static void StopAll()
    {
        ChildProcess[] children;
        lock (Live)
        {
            children = [.. Live];
        }
        foreach (var child in children)
        {
            try
            {
                child.Stop();
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
