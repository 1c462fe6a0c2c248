using System.Diagnostics;

namespace Gateway.Http.Transport;

/// <summary>
/// The deadlines of one worker's connections, kept and fired by the worker itself, as an event loop keeps its timers:
/// no timer queue, no lock, no other thread. Arming stores a due time and lowers the cached earliest one; each loop turn
/// compares the clock with that earliest time and only scans the table once it may have passed, and an idle worker
/// sleeps in its poll until then rather than ticking. Expired entries are collected first, then their callbacks run, so
/// a callback may arm, disarm or dispose any entry, its own included.
/// <para>
/// A deadline stays in the table from its first arm until its owner disposes it; disarmed, it is skipped. The scan is
/// linear, but it runs about once per expiry or per shortest timeout, not per request.
/// </para>
/// <para>
/// Arming reads the clock of the loop turn (<see cref="BeginTurn"/>), not the clock itself, as nginx's timers do: a
/// deadline may end earlier than asked by as long as the turn had run when it was armed (microseconds; a few
/// milliseconds at worst under load), and the clock is read once per turn instead of once or twice per request.
/// </para>
/// </summary>
public sealed class WorkerDeadlines
{
    internal static readonly long TicksPerMillisecond = Stopwatch.Frequency / 1000;

    private readonly WorkerLoop _loop;
    private readonly List<Deadline> _expired = [];
    private Deadline[] _entries = new Deadline[16];
    private int _count;
    // No armed entry is due before this (a disarmed one may have set it: the scan that finds it gone raises it again).
    private long _earliest = Deadline.Never;
    // What the worker's thread sleeps until while a posting thread runs the worker (long.MinValue while it is awake).
    private long _sleepingUntil = long.MinValue;
    private long _turnStarted = Now;

    internal WorkerDeadlines(WorkerLoop loop)
    {
        _loop = loop;
    }

    /// <summary>Entries in the table, armed or not.</summary>
    public int Count => _count;

    /// <summary>A monotonic clock with sub-millisecond resolution (the coarse tick count lags by up to a scheduler tick).</summary>
    internal static long Now => Stopwatch.GetTimestamp();

    /// <summary>The clock as the current loop turn began.</summary>
    internal long TurnStarted => _turnStarted;

    /// <summary>A loop turn begins, on the worker's thread or in a borrowed run.</summary>
    internal void BeginTurn() => _turnStarted = Now;

    internal void EnsureCurrent()
    {
        if (!_loop.IsCurrent)
        {
            throw new InvalidOperationException("a deadline is armed or disarmed only on its worker");
        }
    }

    internal void Join(Deadline deadline)
    {
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _count * 2);
        }
        deadline.Slot = _count;
        _entries[_count++] = deadline;
    }

    internal void Armed(long due)
    {
        if (due < _earliest)
        {
            _earliest = due;
            // A posting thread runs the worker (RunBorrowed) while its thread sleeps until a later time: wake it.
            if (due < _sleepingUntil)
            {
                _loop.Poller.Wake();
            }
        }
    }

    internal void Leave(Deadline deadline)
    {
        if (!_loop.IsCurrent)
        {
            _loop.Post(static d => ((Deadline)d!).Dispose(), deadline);
            return;
        }
        deadline.Due = Deadline.Never;
        deadline.Fired = false;
        int slot = deadline.Slot;
        if (slot < 0)
        {
            return;
        }
        Deadline last = _entries[--_count];
        _entries[slot] = last;
        last.Slot = slot;
        _entries[_count] = null!;
        deadline.Slot = -1;
    }

    /// <summary>
    /// The poll timeout for a worker with nothing queued: until the earliest deadline, or -1 without one. Called by the
    /// worker's thread before it sleeps; <see cref="Awake"/> after.
    /// </summary>
    internal int SleepTimeout()
    {
        _sleepingUntil = _earliest;
        if (_earliest == Deadline.Never)
        {
            return Timeout.Infinite;
        }
        long ticks = _earliest - Now;
        return ticks <= 0 ? 0 : (int)Math.Min(int.MaxValue, (ticks + TicksPerMillisecond - 1) / TicksPerMillisecond);
    }

    /// <summary>The worker's thread has its worker back: arms need not wake it.</summary>
    internal void Awake() => _sleepingUntil = long.MinValue;

    /// <summary>Runs the callbacks of the deadlines that have expired; one compare when none can have.</summary>
    internal void RunExpired()
    {
        if (_earliest == Deadline.Never)
        {
            return;
        }
        long now = Now;
        if (now < _earliest)
        {
            return;
        }
        long earliest = Deadline.Never;
        for (int i = 0; i < _count; i++)
        {
            Deadline deadline = _entries[i];
            long due = deadline.Due;
            if (due <= now)
            {
                deadline.Due = Deadline.Never;
                deadline.Fired = true;
                _expired.Add(deadline);
            }
            else if (due < earliest)
            {
                earliest = due;
            }
        }
        _earliest = earliest;
        try
        {
            for (int i = 0; i < _expired.Count; i++)
            {
                Deadline deadline = _expired[i];
                if (!deadline.Fired)
                {
                    continue;
                }
                deadline.Fired = false;
                try
                {
                    deadline.Expire();
                }
                catch (Exception e) when (_loop.OnUnhandledException is not null)
                {
                    _loop.OnUnhandledException(e);
                }
            }
        }
        finally
        {
            _expired.Clear();
        }
    }
}
