using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Gateway.Http.Transport.SystemCalls;

namespace Gateway.Perf.Load;

/// <summary>
/// Closed loop at saturation: N kept-alive plain connections, each sending its next request as soon as the previous
/// response is complete, for a fixed time, all driven by one thread over one epoll set (as wrk drives them). A request
/// costs the loader one send and one receive, and a wait only when no response is in. The loader shares a core with
/// the upstream; a thread per connection (<see cref="ClosedLoopRun"/>) pays a context switch per request there, and at
/// 64 or 256 connections that core, not the proxy under test, set the throughput (perf/README.md, 'The load generator').
/// Latency is from the actual send, as in any closed loop.
/// </summary>
public sealed unsafe class SaturationRun
{
    private const int MaxEvents = 256;
    private const long ResponseTimeoutNs = 10_000_000_000;
    /// <summary>How often connections that failed are reopened and overdue responses are looked for.</summary>
    private const long SweepIntervalNs = 10_000_000;

    private readonly RequestTemplate _template;
    private readonly TimeSpan _duration;
    private readonly int _connections;
    private readonly IPEndPoint _endPoint;

    public SaturationRun(RequestTemplate template, TimeSpan duration, int connections)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        _template = template;
        _duration = duration;
        _connections = connections;
        _endPoint = new IPEndPoint(IPAddress.Parse(template.Host), template.Port);
    }

    public LoadResult Run()
    {
        var epoll = epoll_create1(EPOLL_CLOEXEC);
        if (epoll < 0)
        {
            throw new IOException("epoll_create1 failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }
        var state = new RunState(_template, epoll);
        var connections = new Connection[_connections];
        var events = new byte[MaxEvents * EpollEventSize];
        try
        {
            for (var i = 0; i < connections.Length; i++)
            {
                connections[i] = new Connection(state, _endPoint, i);
                // Connections open before the clock starts: the phase measures requests only.
                connections[i].TryOpen();
            }
            var startNs = MonotonicClock.NowNs;
            state.EndNs = startNs + (long)(_duration.TotalSeconds * 1e9);
            foreach (var connection in connections)
            {
                connection.SendNext(startNs);
            }
            var sweepNs = startNs + SweepIntervalNs;
            fixed (byte* buffer = events)
            {
                while (true)
                {
                    var nowNs = MonotonicClock.NowNs;
                    if (nowNs >= state.EndNs)
                    {
                        break;
                    }
                    if (nowNs >= sweepNs)
                    {
                        Sweep(connections, nowNs);
                        sweepNs = nowNs + SweepIntervalNs;
                    }
                    var timeoutMs = (int)((Math.Min(state.EndNs, sweepNs) - nowNs) / 1_000_000) + 1;
                    var count = epoll_wait(epoll, buffer, MaxEvents, timeoutMs);
                    if (count < 0 && Marshal.GetLastPInvokeError() != EINTR)
                    {
                        throw new IOException("epoll_wait failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
                    }
                    for (var i = 0; i < count; i++)
                    {
                        var index = (int)Unsafe.ReadUnaligned<ulong>(buffer + (i * EpollEventSize) + EpollDataOffset);
                        connections[index].OnEvents();
                    }
                }
            }
            var elapsed = (MonotonicClock.NowNs - startNs) / 1e9;
            return LoadResult.ClosedLoop("saturation", _connections, _duration, state.Recorder, state.Reconnects, elapsed);
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection?.Close();
            }
            _ = close(epoll);
        }
    }

    /// <summary>Reopens connections that failed and fails those whose response is overdue.</summary>
    private static void Sweep(Connection[] connections, long nowNs)
    {
        foreach (var connection in connections)
        {
            if (!connection.IsOpen)
            {
                if (connection.TryOpen())
                {
                    connection.SendNext(nowNs);
                }
            }
            else if (nowNs - connection.SentNs > ResponseTimeoutNs)
            {
                connection.Fail();
            }
        }
    }

    /// <summary>What the connections of one run share: the clock's end, the request numbers, the results.</summary>
    private sealed class RunState(RequestTemplate template, int epoll)
    {
        public RequestTemplate Template { get; } = template;

        public int Epoll { get; } = epoll;

        public LatencyRecorder Recorder { get; } = new();

        public long EndNs { get; set; } = long.MaxValue;

        public long NextIndex { get; set; }

        /// <summary>Connections opened after the clock started: a proxy that closes kept-alive connections shows here.</summary>
        public long Reconnects { get; set; }

        public bool Started => EndNs != long.MaxValue;
    }

    /// <summary>One connection: its request going out, then its response coming in, one at a time.</summary>
    private sealed class Connection(RunState run, IPEndPoint endPoint, int index)
    {
        private readonly byte[] _request = new byte[run.Template.MaxLength];
        private readonly byte[] _receive = new byte[64 * 1024];
        private Socket? _socket;
        private int _fd = -1;
        private int _buffered;

        public bool IsOpen => _socket is not null;

        /// <summary>When the outstanding request was sent.</summary>
        public long SentNs { get; private set; } = long.MaxValue;

        public bool TryOpen()
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Connect(endPoint);
                socket.Blocking = false;
            }
            catch (SocketException)
            {
                socket.Dispose();
                run.Recorder.RecordError();
                return false;
            }
            _socket = socket;
            _fd = (int)socket.Handle;
            _buffered = 0;
            Watch();
            if (run.Started)
            {
                run.Reconnects++;
            }
            return true;
        }

        /// <summary>Sends the next request, unless the run is over or the connection is down.</summary>
        public void SendNext(long nowNs)
        {
            if (!IsOpen || nowNs >= run.EndNs)
            {
                SentNs = long.MaxValue;
                return;
            }
            var length = run.Template.Write(_request, run.NextIndex++);
            SentNs = nowNs;
            nint written;
            fixed (byte* request = _request)
            {
                written = send(_fd, request, length, MSG_NOSIGNAL);
            }
            // The response to the previous request acknowledged it, so the socket's send buffer (4 KiB at the least) is
            // empty and takes one request whole: a short or refused send means the connection is broken.
            if (written != length)
            {
                Fail();
            }
        }

        /// <summary>The socket is readable, or failed (epoll reports errors and hang-ups with any interest).</summary>
        public void OnEvents()
        {
            if (IsOpen)
            {
                Receive();
            }
        }

        /// <summary>Counts an error and closes; the next sweep reopens it.</summary>
        public void Fail()
        {
            run.Recorder.RecordError();
            Close();
        }

        public void Close()
        {
            if (_socket is null)
            {
                return;
            }
            _ = epoll_ctl(run.Epoll, EPOLL_CTL_DEL, _fd, null);
            _socket.Dispose();
            _socket = null;
            _fd = -1;
            SentNs = long.MaxValue;
        }

        private void Receive()
        {
            nint read;
            fixed (byte* receive = _receive)
            {
                read = recv(_fd, receive + _buffered, _receive.Length - _buffered, 0);
            }
            if (read < 0 && Marshal.GetLastPInvokeError() == EAGAIN)
            {
                return;
            }
            if (read <= 0 || SentNs == long.MaxValue)
            {
                // Closed or reset, or bytes nobody asked for.
                Fail();
                return;
            }
            _buffered += (int)read;
            var outcome = ResponseFraming.TryFrame(_receive.AsSpan(0, _buffered), out var length, out var status, out var close);
            if (outcome == ResponseFraming.Outcome.NeedMoreData && _buffered < _receive.Length)
            {
                return;
            }
            if (outcome != ResponseFraming.Outcome.Complete)
            {
                Fail();
                return;
            }
            var nowNs = MonotonicClock.NowNs;
            if (status is >= 200 and < 300)
            {
                run.Recorder.Record(nowNs - SentNs);
            }
            else
            {
                run.Recorder.RecordError();
            }
            // One request is outstanding, so bytes past the response are the next TryFrame's protocol error to report.
            _buffered -= length;
            if (_buffered > 0)
            {
                Buffer.BlockCopy(_receive, length, _receive, 0, _buffered);
            }
            if (close)
            {
                Close();
                if (nowNs >= run.EndNs || !TryOpen())
                {
                    return;
                }
            }
            SendNext(nowNs);
        }

        /// <summary>Adds the socket to the run's epoll set, level-triggered for reading, keyed by the connection's index.</summary>
        private void Watch()
        {
            var entry = stackalloc byte[16];
            Unsafe.WriteUnaligned(entry, EPOLLIN);
            Unsafe.WriteUnaligned(entry + EpollDataOffset, (ulong)index);
            if (epoll_ctl(run.Epoll, EPOLL_CTL_ADD, _fd, entry) < 0)
            {
                throw new IOException("epoll_ctl failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }
        }
    }
}
