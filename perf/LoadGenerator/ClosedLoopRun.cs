using System.Security.Authentication;

namespace Gateway.Perf.Load;

/// <summary>
/// Closed loop: N connections, plain or TLS, each sending its next request as soon as the previous response is
/// complete, for a fixed time. Kept alive, this measures saturation throughput (many connections) and the bare round
/// trip (one connection), over TLS what TLS adds per request; latency here is from the actual send, so it is not an
/// open-loop figure. With a connection per request over TLS it measures how many full handshakes (each with one
/// request) the server completes per second.
/// </summary>
public sealed class ClosedLoopRun
{
    private readonly RequestTemplate _template;
    private readonly TimeSpan _duration;
    private readonly int _connections;
    private readonly TlsClient? _tls;
    private readonly bool _connectionPerRequest;
    private long _next;

    public ClosedLoopRun(RequestTemplate template, TimeSpan duration, int connections, TlsClient? tls = null, bool connectionPerRequest = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        _template = template;
        _duration = duration;
        _connections = connections;
        _tls = tls;
        _connectionPerRequest = connectionPerRequest;
    }

    /// <summary>Connections opened while the last run's clock ran (over TLS, full handshakes).</summary>
    public long Connects { get; private set; }

    /// <summary>The TLS version the last run negotiated (e.g. Tls13); None over plain TCP.</summary>
    public SslProtocols Protocol { get; private set; }

    public LoadResult Run()
    {
        var recorder = new LatencyRecorder();
        var connections = new LoadConnection[_connections];
        var connectsBefore = 0L;
        for (var i = 0; i < connections.Length; i++)
        {
            connections[i] = new LoadConnection(_template, _tls, _connectionPerRequest);
            if (_connectionPerRequest)
            {
                continue;
            }
            try
            {
                // Kept-alive connections connect (and shake hands) before the clock starts: the phase measures requests only.
                connections[i].Open();
                connectsBefore++;
            }
            catch (Exception e) when (IsConnectionFailure(e))
            {
                recorder.RecordError();
            }
        }
        using var start = new ManualResetEventSlim();
        var threads = new Thread[connections.Length];
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
        var startNs = MonotonicClock.NowNs;
        Volatile.Write(ref endNs, startNs + (long)(_duration.TotalSeconds * 1e9));
        start.Set();
        foreach (var thread in threads)
        {
            thread.Join();
        }
        var elapsed = (MonotonicClock.NowNs - startNs) / 1e9;
        var connects = -connectsBefore;
        foreach (var connection in connections)
        {
            connects += connection.Connects;
            if (connection.Connects > 0)
            {
                Protocol = connection.Protocol;
            }
            connection.Dispose();
        }
        Connects = connects;
        return LoadResult.ClosedLoop(Mode, _connections, _duration, recorder, _connectionPerRequest ? 0 : connects, elapsed);
    }

    private string Mode => (_tls, _connectionPerRequest) switch
    {
        (null, false) => "closed",
        (null, true) => "connect-per-request",
        (_, false) => "tls-closed",
        (_, true) => "tls-handshake",
    };

    private static bool IsConnectionFailure(Exception e) =>
        e is IOException or System.Net.Sockets.SocketException or InvalidDataException or AuthenticationException;

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
            catch (Exception e) when (IsConnectionFailure(e))
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
