using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Gateway.Perf.Load;

/// <summary>
/// Nanosecond timestamps and absolute sleeps on CLOCK_MONOTONIC. An open-loop
/// generator must send each request at its scheduled instant: .NET timers and
/// Thread.Sleep round to milliseconds, which at 5k req/s (200 µs apart) would
/// turn a constant arrival rate into bursts, so we sleep with clock_nanosleep.
/// </summary>
public static partial class MonotonicClock
{
    private const int ClockMonotonic = 1;   // <time.h> CLOCK_MONOTONIC on Linux
    private const int TimerAbsTime = 1;     // <time.h> TIMER_ABSTIME

    /// <summary>On Linux, Stopwatch reads CLOCK_MONOTONIC in nanoseconds; anything else would break the absolute sleeps.</summary>
    public static bool IsNanosecondMonotonic => Stopwatch.Frequency == 1_000_000_000;

    public static long NowNs => Stopwatch.GetTimestamp();

    /// <summary>Sleeps until <paramref name="deadlineNs"/> (a <see cref="NowNs"/> value); returns at once if it has passed.</summary>
    public static void SleepUntil(long deadlineNs)
    {
        if (deadlineNs <= NowNs)
        {
            return;
        }
        if (!IsNanosecondMonotonic)
        {
            // Portable fallback: millisecond resolution only.
            Thread.Sleep(TimeSpan.FromTicks((deadlineNs - NowNs) * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            return;
        }
        var ts = new TimeSpec { Seconds = deadlineNs / 1_000_000_000, Nanoseconds = deadlineNs % 1_000_000_000 };
        // EINTR (a signal) just returns early; the caller's loop then sends a hair early, which is harmless.
        _ = ClockNanosleep(ClockMonotonic, TimerAbsTime, in ts, IntPtr.Zero);
    }

    /// <summary>
    /// Linux delays a sleeping thread's wake-up by up to its timer slack (50 µs by
    /// default) to batch wake-ups; that delay would land in every open-loop latency.
    /// Call once on each thread that sleeps with <see cref="SleepUntil"/>.
    /// </summary>
    public static void UsePreciseWakeups()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = Prctl(PrSetTimerSlack, 1, 0, 0, 0);   // prctl(2) PR_SET_TIMERSLACK, in nanoseconds
        }
    }

    private const int PrSetTimerSlack = 29;

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clockId, int flags, in TimeSpec request, IntPtr remain);
}
