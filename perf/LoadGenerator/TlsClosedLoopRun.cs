using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Perf.Load;

/// <summary>
/// The closed loop of <see cref="ClosedLoopRun"/> over TLS: N connections, each sending its next request as soon as the
/// previous response is complete. Kept alive, it measures what TLS adds per request; with a handshake per request,
/// how many full handshakes (each with one request) the server completes per second.
/// </summary>
public sealed class TlsClosedLoopRun
{
    private readonly RequestTemplate _template;
    private readonly string _serverName;
    private readonly X509Certificate2 _trust;
    private readonly TimeSpan _duration;
    private readonly int _connections;
    private readonly bool _handshakePerRequest;
    private long _next;

    public TlsClosedLoopRun(RequestTemplate template, string serverName, X509Certificate2 trust, TimeSpan duration, int connections, bool handshakePerRequest)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        _template = template;
        _serverName = serverName;
        _trust = trust;
        _duration = duration;
        _connections = connections;
        _handshakePerRequest = handshakePerRequest;
    }

    /// <summary>Full handshakes completed in the last run.</summary>
    public long Handshakes { get; private set; }

    /// <summary>The TLS version the last run negotiated (e.g. Tls13).</summary>
    public SslProtocols Protocol { get; private set; }

    public LoadResult Run()
    {
        var recorder = new LatencyRecorder();
        var connections = new TlsLoadConnection[_connections];
        for (var i = 0; i < connections.Length; i++)
        {
            connections[i] = new TlsLoadConnection(_template, _serverName, _trust, _handshakePerRequest);
            if (_handshakePerRequest)
            {
                continue;
            }
            try
            {
                // Kept-alive connections shake hands before the clock starts: the phase measures requests only.
                connections[i].Open();
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or AuthenticationException)
            {
                recorder.RecordError();
            }
        }
        var handshakesBefore = 0L;
        foreach (var connection in connections)
        {
            handshakesBefore += connection.Handshakes;
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
            { IsBackground = true, Name = "tls-loop " + i };
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
        var handshakes = -handshakesBefore;
        foreach (var connection in connections)
        {
            handshakes += connection.Handshakes;
            if (connection.Handshakes > 0)
            {
                Protocol = connection.Protocol;
            }
            connection.Dispose();
        }
        Handshakes = handshakes;
        var completed = recorder.Count;
        var failure = recorder.Errors > 0 ? $"{recorder.Errors} errors" : completed == 0 ? "no response" : null;
        var reconnects = _handshakePerRequest ? 0 : handshakes;
        return new LoadResult(_handshakePerRequest ? "tls-handshake" : "tls-closed", _connections, 0, _duration.TotalSeconds, completed,
            recorder.Errors, reconnects, elapsed, completed / elapsed, recorder.Summarize(), failure);
    }

    private void Drive(TlsLoadConnection connection, LatencyRecorder recorder, long endNs)
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
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException or AuthenticationException)
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
