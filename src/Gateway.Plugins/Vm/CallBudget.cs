using System.Diagnostics;
using Gateway.Plugins.Runtime;
using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// The time one guest call may take: a CPU budget (limits.cpuMillisecondsPerCall, imports included) enforced through
/// the engine's epoch deadline, and a wall-clock cap (limits.wallMillisecondsPerCall) so that a preempted or
/// import-heavy call still ends. Start-up gets a larger CPU budget and no wall-clock cap: it may parse configuration.
/// </summary>
internal sealed class CallBudget
{
    private readonly EpochTicker _ticker;
    private readonly ulong _runningTicks;
    private readonly long _wallCapTimestampTicks;
    private ulong _deadlineTicks;
    private long _cpuStart;
    // Wall time between the CPU reading _cpuStart holds and the call's start: at most that much of the CPU counted
    // since the reading was used before the call.
    private long _cpuStartAge;
    private long _wallStart;

    public CallBudget(EpochTicker ticker, PluginLimits limits, int startupMilliseconds)
    {
        _ticker = ticker;
        _runningTicks = (ulong)Math.Max(1, limits.CpuMillisecondsPerCall) * EpochTicker.TicksPerMillisecond + 1;
        _wallCapTimestampTicks = limits.WallCapMilliseconds * Stopwatch.Frequency / 1000;
        _deadlineTicks = (ulong)startupMilliseconds * EpochTicker.TicksPerMillisecond;
    }

    /// <summary>Start-up is over: every later call gets the per-call budget.</summary>
    public void EnterRunning() => _deadlineTicks = _runningTicks;

    /// <summary>Starts the clocks of one call and sets the store's deadline.</summary>
    public void Arm(Store store)
    {
        _cpuStart = ThreadCpuClock.RecentNanoseconds(out _cpuStartAge);
        _wallStart = Stopwatch.GetTimestamp();
        store.SetEpochDeadline(_deadlineTicks);
        _ticker.Expect((long)(_deadlineTicks / EpochTicker.TicksPerMillisecond));
    }

    /// <summary>The instance's start section runs before any call is armed; its CPU counts from here.</summary>
    public void StartCpuClock()
    {
        _cpuStart = ThreadCpuClock.NowNanoseconds();
        _cpuStartAge = 0;
    }

    /// <summary>The wall-clock cap of the running call has passed.</summary>
    public bool WallCapPassed => Stopwatch.GetTimestamp() - _wallStart >= _wallCapTimestampTicks;

    /// <summary>
    /// The epoch deadline is wall-clock; when it passes, the budget is checked against the CPU the call really used on
    /// this thread, imports included (never more: the CPU the thread may have used between the start reading and the
    /// call, up to 250 µs, is not charged). Preempted time extends the deadline, up to the wall-clock cap when
    /// <paramref name="capped"/>; a spent budget or the cap ends the call (a trap).
    /// </summary>
    public ulong Extend(bool capped)
    {
        long used = Math.Max(0, ThreadCpuClock.NowNanoseconds() - _cpuStart - _cpuStartAge);
        long budget = (long)(_deadlineTicks - 1) * 1_000_000 / (long)EpochTicker.TicksPerMillisecond;
        long wall = Stopwatch.GetTimestamp() - _wallStart;
        if (used >= budget || (capped && wall >= _wallCapTimestampTicks))
        {
            throw new CpuDeadlineExceededException();
        }
        long remaining = budget - used;
        if (capped)
        {
            remaining = Math.Min(remaining, (long)((_wallCapTimestampTicks - wall) * (1_000_000_000.0 / Stopwatch.Frequency)));
        }
        ulong extension = (ulong)Math.Ceiling(remaining / 1_000_000.0 * EpochTicker.TicksPerMillisecond) + 1;
        _ticker.Expect((long)(extension / EpochTicker.TicksPerMillisecond));
        return extension;
    }
}
