namespace Gateway.Http.Transport;

/// <summary>
/// One owner's deadline on its worker's clock (<see cref="WorkerDeadlines"/>): a connection holds one for its life and
/// arms, moves and disarms it per request without allocating or taking a lock. On expiry its callback runs on the worker.
/// Made on any thread; armed, disarmed and disposed only as the worker.
/// </summary>
public sealed class Deadline : IDisposable
{
    internal const long Never = long.MaxValue;

    private readonly WorkerDeadlines _table;
    private readonly Action<object?> _onExpired;
    private readonly object? _state;

    public Deadline(WorkerDeadlines table, Action<object?> onExpired, object? state)
    {
        _table = table;
        _onExpired = onExpired;
        _state = state;
    }

    /// <summary>When it expires, in <see cref="System.Diagnostics.Stopwatch"/> ticks; <see cref="Never"/> while disarmed.</summary>
    internal long Due { get; set; } = Never;

    /// <summary>Its slot in the table; -1 until first armed and again once disposed.</summary>
    internal int Slot { get; set; } = -1;

    /// <summary>Collected by a scan and not yet run: a disarm or re-arm before its turn cancels the run.</summary>
    internal bool Fired { get; set; }

    public bool IsArmed => Due != Never;

    /// <summary>Expires <paramref name="milliseconds"/> from the current loop turn's start (re-arming moves it).</summary>
    public void Arm(int milliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds);
        _table.EnsureCurrent();
        Fired = false;
        Due = _table.TurnStarted + (milliseconds * WorkerDeadlines.TicksPerMillisecond);
        if (Slot < 0)
        {
            _table.Join(this);
        }
        _table.Armed(Due);
    }

    public void Disarm()
    {
        _table.EnsureCurrent();
        Due = Never;
        Fired = false;
    }

    /// <summary>Leaves the table for good, as the worker, or from another thread by a post to it.</summary>
    public void Dispose() => _table.Leave(this);

    internal void Expire() => _onExpired(_state);
}
