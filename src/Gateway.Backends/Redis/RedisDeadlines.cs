using System.Diagnostics;

namespace Gateway.Backends.Redis;

/// <summary>
/// The deadlines of a target's calls in flight, watched by one timer instead of a timer per call. The timer is set
/// for the earliest deadline still pending; as most calls finish long before it, it fires a few times a second
/// under load rather than once per call.
/// </summary>
internal sealed class RedisDeadlines : IDisposable
{
    private readonly object _gate = new();
    private readonly Action<RedisCall> _expire;
    private readonly Timer _timer;
    private RedisCall? _head;
    private long _armedFor = long.MaxValue;
    private bool _disposed;

    public RedisDeadlines(Action<RedisCall> expire)
    {
        _expire = expire;
        _timer = new Timer(static s => ((RedisDeadlines)s!).Sweep(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public void Add(RedisCall call)
    {
        lock (_gate)
        {
            call.Next = _head;
            if (_head is not null)
            {
                _head.Previous = call;
            }

            _head = call;
            call.Listed = true;
            if (call.Deadline < _armedFor)
            {
                Arm(call.Deadline, Stopwatch.GetTimestamp());
            }
        }
    }

    public void Remove(RedisCall call)
    {
        lock (_gate)
        {
            Unlink(call);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer.Dispose();
        }
    }

    private void Sweep()
    {
        long now = Stopwatch.GetTimestamp();
        RedisCall? expired = null;
        lock (_gate)
        {
            long earliest = long.MaxValue;
            var call = _head;
            while (call is not null)
            {
                var next = call.Next;
                if (call.Deadline <= now)
                {
                    Unlink(call);
                    call.Next = expired;
                    expired = call;
                }
                else
                {
                    earliest = Math.Min(earliest, call.Deadline);
                }

                call = next;
            }

            _armedFor = long.MaxValue;
            if (earliest != long.MaxValue)
            {
                Arm(earliest, now);
            }
        }

        while (expired is not null)
        {
            var next = expired.Next;
            expired.Next = null;
            _expire(expired);
            expired = next;
        }
    }

    /// <summary>Fires at <paramref name="deadline"/> (a Stopwatch timestamp), rounded up to the next millisecond.</summary>
    private void Arm(long deadline, long now)
    {
        if (_disposed)
        {
            return;
        }

        _armedFor = deadline;
        long dueMs = Math.Max(1, ((deadline - now) * 1000 / Stopwatch.Frequency) + 1);
        _timer.Change(dueMs, Timeout.Infinite);
    }

    private void Unlink(RedisCall call)
    {
        if (!call.Listed)
        {
            return;
        }

        if (call.Previous is { } previous)
        {
            previous.Next = call.Next;
        }
        else
        {
            _head = call.Next;
        }

        if (call.Next is { } next)
        {
            next.Previous = call.Previous;
        }

        call.Previous = null;
        call.Next = null;
        call.Listed = false;
    }
}
