using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Gateway.Plugins.Vm;

/// <summary>
/// CPU time consumed by the calling thread, so a guest's budget is charged for the CPU it used and not for the
/// time the worker was preempted (a loaded machine must not fail healthy plugins). Elsewhere than Linux it falls
/// back to wall-clock time.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

    /// <summary>How old a reading <see cref="RecentNanoseconds"/> may hand out: 250 µs.</summary>
    private static readonly long s_reuseTicks = Stopwatch.Frequency / 4000;

    [ThreadStatic]
    private static long t_cpuNanoseconds;

    [ThreadStatic]
    private static long t_readAt;

    /// <summary>
    /// The thread's CPU time as read at most 250 µs ago, and how long ago (<paramref name="ageNanoseconds"/>, wall
    /// time, which bounds the CPU the thread can have used since). The kernel answers this clock only through a system
    /// call, and a guest call starts several times per request; a reading this recent serves them all.
    /// </summary>
    public static long RecentNanoseconds(out long ageNanoseconds)
    {
        long now = Stopwatch.GetTimestamp();
        if (t_readAt == 0 || now - t_readAt > s_reuseTicks)
        {
            t_cpuNanoseconds = NowNanoseconds();
            t_readAt = now;
        }
        ageNanoseconds = (long)((now - t_readAt) * (1_000_000_000.0 / Stopwatch.Frequency));
        return t_cpuNanoseconds;
    }

    public static long NowNanoseconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTime, out var time) == 0)
        {
            return time.Seconds * 1_000_000_000 + time.Nanoseconds;
        }
        return (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
