using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Gateway.Perf.Load.LoaderSystemCalls;

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
                        var entry = buffer + (i * EpollEventSize);
                        var mask = Unsafe.ReadUnaligned<uint>(entry);
                        var index = (int)Unsafe.ReadUnaligned<ulong>(entry + EpollDataOffset);
                        connections[index].OnEvents(mask);
                    }
                }
            }
            var elapsed = (MonotonicClock.NowNs - startNs) / 1e9;
            var recorder = state.Recorder;
            var completed = recorder.Count;
            var failure = recorder.Errors > 0 ? $"{recorder.Errors} errors" : completed == 0 ? "no response" : null;
            return new LoadResult("saturation", _connections, 0, _duration.TotalSeconds, completed, recorder.Errors,
                state.Reconnects, elapsed, completed / elapsed, recorder.Summarize(), failure);
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
        private int _sent;
        private int _length;
        private bool _watchingWritable;

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
            _watchingWritable = false;
            Control(EPOLL_CTL_ADD, EPOLLIN);
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
            _length = run.Template.Write(_request, run.NextIndex++);
            _sent = 0;
            SentNs = nowNs;
            ContinueSend();
        }

        public void OnEvents(uint mask)
        {
            if (!IsOpen)
            {
                return;
            }
            if ((mask & EPOLLOUT) != 0 && _watchingWritable)
            {
                ContinueSend();
            }
            if ((mask & ~EPOLLOUT) != 0 && IsOpen)
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

        private void ContinueSend()
        {
            fixed (byte* request = _request)
            {
                while (_sent < _length)
                {
                    var written = send(_fd, request + _sent, _length - _sent, MSG_NOSIGNAL);
                    if (written < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == EAGAIN)
                        {
                            // The socket's buffer is full (never with one small request, but a slow reader): wait to write.
                            WatchWritable(true);
                            return;
                        }
                        Fail();
                        return;
                    }
                    _sent += (int)written;
                }
            }
            WatchWritable(false);
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

        private void WatchWritable(bool watch)
        {
            if (_watchingWritable != watch && IsOpen)
            {
                _watchingWritable = watch;
                Control(EPOLL_CTL_MOD, watch ? EPOLLIN | EPOLLOUT : EPOLLIN);
            }
        }

        private void Control(int operation, uint mask)
        {
            var entry = stackalloc byte[16];
            Unsafe.WriteUnaligned(entry, mask);
            Unsafe.WriteUnaligned(entry + EpollDataOffset, (ulong)index);
            if (epoll_ctl(run.Epoll, operation, _fd, entry) < 0)
            {
                throw new IOException("epoll_ctl failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }
        }
    }
}
