namespace Gateway.Perf.Load;

/// <summary>
/// Closed loop: N connections, each sending its next request as soon as the
/// previous response is complete, for a fixed time. This measures saturation
/// throughput (many connections) and the bare round trip (one connection);
/// latency here is from the actual send, so it is not an open-loop figure.
/// </summary>
public sealed class ClosedLoopRun
{
    private readonly RequestTemplate _template;
    private readonly TimeSpan _duration;
    private readonly int _connections;
    private long _next;

    public ClosedLoopRun(RequestTemplate template, TimeSpan duration, int connections)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        _template = template;
        _duration = duration;
        _connections = connections;
    }

    public LoadResult Run()
    {
        var recorder = new LatencyRecorder();
        var connections = new LoadConnection[_connections];
        for (var i = 0; i < connections.Length; i++)
        {
            connections[i] = new LoadConnection(_template);
            try
            {
                connections[i].Open();
            }
            catch (System.Net.Sockets.SocketException)
            {
                recorder.RecordError();
            }
        }
        using var start = new ManualResetEventSlim();
        var threads = new Thread[connections.Length];
        var startNs = 0L;
        var endNs = 0L;
        for (var i = 0; i < threads.Length; i++)
        {
            var connection = connections[i];
            threads[i] = new Thread(() =>
            {
                start.Wait();
                Drive(connection, recorder, Volatile.Read(ref endNs));
            })
            { IsBackground = true, Name = "closed-loop " + i };
            threads[i].Start();
        }
        startNs = MonotonicClock.NowNs;
        Volatile.Write(ref endNs, startNs + (long)(_duration.TotalSeconds * 1e9));
        start.Set();
        foreach (var thread in threads)
        {
            thread.Join();
        }
        var elapsed = (MonotonicClock.NowNs - startNs) / 1e9;
        var reconnects = 0L;
        foreach (var connection in connections)
        {
            reconnects += Math.Max(0, connection.Connects - 1);
            connection.Dispose();
        }
        var completed = recorder.Count;
        var failure = recorder.Errors > 0 ? $"{recorder.Errors} errors" : completed == 0 ? "no response" : null;
        return new LoadResult("closed", _connections, 0, _duration.TotalSeconds, completed, recorder.Errors,
            reconnects, elapsed, completed / elapsed, recorder.Summarize(), failure);
    }

    private void Drive(LoadConnection connection, LatencyRecorder recorder, long endNs)
    {
        var errors = 0;
        while (MonotonicClock.NowNs < endNs)
        {
            var index = Interlocked.Increment(ref _next) - 1;
            var sentNs = MonotonicClock.NowNs;
            try
            {
                var status = connection.Exchange(index);
                if (status is >= 200 and < 300)
                {
                    recorder.Record(MonotonicClock.NowNs - sentNs);
                    continue;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
            {
            }
            recorder.RecordError();
            // A dead target must not turn this loop into a reconnect storm: back off a little.
            if (++errors > 100)
            {
                Thread.Sleep(10);
            }
        }
    }
}
