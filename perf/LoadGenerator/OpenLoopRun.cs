namespace Gateway.Perf.Load;

/// <summary>
/// Constant arrival rate (open loop): request i is due at start + i / rate, and its
/// latency is measured from that scheduled instant, not from when a connection
/// became free to send it. A slow server therefore shows its queueing delay
/// instead of silently lowering the offered rate (coordinated omission, the flaw
/// of closed-loop tools such as wrk).
/// </summary>
public sealed class OpenLoopRun
{
    private readonly RequestTemplate _template;
    private readonly double _rate;
    private readonly TimeSpan _duration;
    private readonly int _connections;
    private long _next;
    private long _lastCompletionNs;

    public OpenLoopRun(RequestTemplate template, double rate, TimeSpan duration, int connections)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rate, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        _template = template;
        _rate = rate;
        _duration = duration;
        _connections = connections;
    }

    public LoadResult Run()
    {
        var total = (long)(_rate * _duration.TotalSeconds);
        var recorder = new LatencyRecorder();
        var lag = new LatencyRecorder();
        var connections = new LoadConnection[_connections];
        for (var i = 0; i < connections.Length; i++)
        {
            connections[i] = new LoadConnection(_template);
        }
        // Open every connection before the clock starts: connect time is not request latency.
        foreach (var connection in connections)
        {
            TryOpen(connection, recorder);
        }
        var startNs = MonotonicClock.NowNs + 5_000_000;
        // Bounded: no request is sent later than one second past the scheduled end.
        var stopSendingNs = startNs + (long)(_duration.TotalSeconds * 1e9) + 1_000_000_000;
        var threads = new Thread[connections.Length];
        for (var i = 0; i < threads.Length; i++)
        {
            var connection = connections[i];
            threads[i] = new Thread(() => Drive(connection, recorder, lag, total, startNs, stopSendingNs))
            {
                IsBackground = true,
                Name = "open-loop " + i,
            };
            threads[i].Start();
        }
        foreach (var thread in threads)
        {
            thread.Join();
        }
        var reconnects = 0L;
        foreach (var connection in connections)
        {
            reconnects += Math.Max(0, connection.Connects - 1);
            connection.Dispose();
        }
        var endNs = Math.Max(Interlocked.Read(ref _lastCompletionNs), startNs + (long)(_duration.TotalSeconds * 1e9));
        var elapsed = (endNs - startNs) / 1e9;
        var completed = recorder.Count;
        var achieved = completed / elapsed;
        string? failure = null;
        if (achieved < 0.99 * _rate)
        {
            failure = $"achieved {achieved:F0} req/s, below 99% of the target {_rate:F0}";
        }
        else if (recorder.Errors > 0)
        {
            failure = $"{recorder.Errors} errors";
        }
        return new LoadResult("open", _connections, _rate, _duration.TotalSeconds, completed, recorder.Errors,
            reconnects, elapsed, achieved, recorder.Summarize(), failure)
        { SendLag = lag.Summarize() };
    }

    private void Drive(LoadConnection connection, LatencyRecorder recorder, LatencyRecorder lag, long total, long startNs, long stopSendingNs)
    {
        MonotonicClock.UsePreciseWakeups();
        var intervalNs = 1e9 / _rate;
        while (true)
        {
            var index = Interlocked.Increment(ref _next) - 1;
            if (index >= total)
            {
                return;
            }
            var dueNs = startNs + (long)(index * intervalNs);
            MonotonicClock.SleepUntil(dueNs);
            var sendNs = MonotonicClock.NowNs;
            if (sendNs > stopSendingNs)
            {
                return;
            }
            lag.Record(sendNs - dueNs);
            try
            {
                var status = connection.Exchange(index);
                var doneNs = MonotonicClock.NowNs;
                if (status is >= 200 and < 300)
                {
                    recorder.Record(doneNs - dueNs);
                    InterlockedMax(ref _lastCompletionNs, doneNs);
                }
                else
                {
                    recorder.RecordError();
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
            {
                recorder.RecordError();
            }
        }
    }

    private static void TryOpen(LoadConnection connection, LatencyRecorder recorder)
    {
        try
        {
            connection.Open();
        }
        catch (System.Net.Sockets.SocketException)
        {
            recorder.RecordError();
        }
    }

    internal static void InterlockedMax(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }
}
