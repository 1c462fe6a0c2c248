using System.Globalization;
using System.Runtime.InteropServices;

namespace Gateway.Perf.Runner;

/// <summary>Reads a process's CPU time and memory from /proc (proc(5)).</summary>
public static partial class ProcessProbe
{
    private static readonly long TicksPerSecond = ReadClockTicks();

    /// <summary>utime + stime of every thread, live or exited, in microseconds (/proc/PID/stat fields 14 and 15).</summary>
    public static long CpuMicroseconds(int pid) => Cpu(pid).TotalMicroseconds;

    /// <summary>utime + stime of one thread of <paramref name="pid"/>, in microseconds.</summary>
    public static long CpuMicroseconds(int pid, int thread) => Cpu($"/proc/{pid}/task/{thread}/stat").TotalMicroseconds;

    /// <summary>utime and stime of every thread, live or exited, apart: the process's own code and the kernel working for it.</summary>
    public static CpuTime Cpu(int pid) => Cpu($"/proc/{pid}/stat");

    private static CpuTime Cpu(string statFile)
    {
        var stat = File.ReadAllText(statFile);
        // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var user = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var kernel = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return new CpuTime(user * 1_000_000 / TicksPerSecond, kernel * 1_000_000 / TicksPerSecond);
    }

    /// <summary>
    /// Context switches (voluntary + involuntary) of the process's live threads. Every hand-off of a
    /// request between threads costs one; on a shared core it is what separates an event loop from a
    /// thread-hopping design, and it explains CPU per request where utime+stime alone cannot.
    /// </summary>
    public static long ContextSwitches(int pid)
    {
        var total = 0L;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) ||
                        line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        total += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // The thread exited between listing and reading: its switches are gone with it.
            }
        }
        return total;
    }

    /// <summary>Resident set size now (VmRSS), in KiB.</summary>
    public static long RssKiB(int pid) => StatusField(pid, "VmRSS:");

    /// <summary>Peak resident set size over the process's life (VmHWM), in KiB.</summary>
    public static long PeakRssKiB(int pid) => StatusField(pid, "VmHWM:");

    private static long StatusField(int pid, string name)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(name.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"{name} missing from /proc/{pid}/status");
    }

    private static long ReadClockTicks()
    {
        var ticks = Sysconf(ScClkTck);
        return ticks > 0 ? ticks : 100;
    }

    private const int ScClkTck = 2;   // <unistd.h> _SC_CLK_TCK on Linux

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long Sysconf(int name);
}

/// <summary>CPU time of a process in user mode (utime) and in the kernel (stime), in microseconds.</summary>
public readonly record struct CpuTime(long UserMicroseconds, long KernelMicroseconds)
{
    public long TotalMicroseconds => UserMicroseconds + KernelMicroseconds;

    public static CpuTime operator -(CpuTime after, CpuTime before) =>
        new(after.UserMicroseconds - before.UserMicroseconds, after.KernelMicroseconds - before.KernelMicroseconds);
}
