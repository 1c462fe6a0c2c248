using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Backends;

/// <summary>
/// One TCP connection to Redis speaking RESP2, shared by every worker and pipelined: commands are written in the
/// order calls arrive and Redis answers in that order, so replies are matched to calls first in, first out. The
/// command policy (<see cref="RespCommand"/>) refuses everything that would change the connection's state, which
/// is what makes sharing it safe. Replies are read where the socket completes (the runtime's event thread) and
/// complete their calls right there, so a plugin's worker resumes without a hand-off between threads.
/// A call past its deadline completes as a timeout and its reply, when it comes, is dropped. A connection whose
/// oldest call has waited past the stall limit is closed, as is one that breaks the protocol.
/// </summary>
internal sealed class RespConnection
{
    private const int MaxReplyBytes = 64 * 1024 * 1024;

    private static readonly Task<RespOutcome> ClosedOutcome = Task.FromResult(new RespOutcome(RespOutcomeKind.Closed, []));

    private readonly Socket _socket;
    private readonly object _gate = new();
    private readonly Queue<PendingReply> _pending = new();
    private readonly Timer _sweep;
    private readonly TimeSpan _sweepPeriod;
    private readonly long _stallTicks;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _outgoing = new byte[4096];
    private byte[] _writing = new byte[4096];
    private int _outgoingLength;
    private bool _flushing;
    private bool _sweeping;
    private bool _isClosed;
    private byte[] _incoming = new byte[16 * 1024];
    private int _incomingStart;
    private int _incomingEnd;
    private RespReplyFramer _framer;

    private RespConnection(Socket socket, TimeSpan sweepPeriod, TimeSpan stallLimit)
    {
        _socket = socket;
        _sweepPeriod = sweepPeriod;
        _stallTicks = (long)(stallLimit.TotalSeconds * Stopwatch.Frequency);
        // Armed only while calls wait: an idle connection wakes no thread.
        _sweep = new Timer(static s => ((RespConnection)s!).Sweep(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Completes when the connection has closed, for whatever reason.</summary>
    public Task Closed => _closed.Task;

    /// <summary>
    /// Connects to <paramref name="endpoint"/> and authenticates, selects the database and names the client
    /// (<c>gateway</c>), pipelined; throws when any step fails, with Redis's error reply as the message.
    /// </summary>
    public static async Task<RespConnection> OpenAsync(
        EndPoint endpoint, RedisTargetOptions options, string? password, TimeSpan sweepPeriod, TimeSpan stallLimit, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellation).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new RespConnection(socket, sweepPeriod, stallLimit);
        _ = connection.ReceiveAsync();
        long deadline = Stopwatch.GetTimestamp() + (long)(options.ConnectTimeoutMs / 1000.0 * Stopwatch.Frequency);
        var steps = new List<(string Name, Task<RespOutcome> Reply)>();
        if (!string.IsNullOrEmpty(password))
        {
            steps.Add(("AUTH", connection.CallAsync(
                string.IsNullOrEmpty(options.User) ? Command("AUTH", password) : Command("AUTH", options.User, password), deadline)));
        }
        if (options.Database != 0)
        {
            steps.Add(("SELECT", connection.CallAsync(Command("SELECT", options.Database.ToString(System.Globalization.CultureInfo.InvariantCulture)), deadline)));
        }
        steps.Add(("CLIENT SETNAME", connection.CallAsync(Command("CLIENT", "SETNAME", "gateway"), deadline)));
        foreach (var (name, reply) in steps)
        {
            RespOutcome outcome = await reply.ConfigureAwait(false);
            if (outcome.Kind != RespOutcomeKind.Reply || !outcome.Reply.AsSpan().SequenceEqual("+OK\r\n"u8))
            {
                connection.Close();
                string detail = outcome.Kind == RespOutcomeKind.Reply ? Encoding.UTF8.GetString(outcome.Reply).TrimEnd() : outcome.Kind.ToString().ToLowerInvariant();
                throw new IOException($"{name} failed: {detail}");
            }
        }
        return connection;
    }

    /// <summary>Sends one command; the outcome is its reply, a timeout at <paramref name="deadline"/> (a Stopwatch timestamp), or the connection closing.</summary>
    public Task<RespOutcome> CallAsync(ReadOnlySpan<byte> command, long deadline)
    {
        var call = new PendingReply(deadline);
        bool flush;
        lock (_gate)
        {
            if (_isClosed)
            {
                return ClosedOutcome;
            }
            Append(command);
            _pending.Enqueue(call);
            flush = !_flushing;
            _flushing = true;
            if (!_sweeping)
            {
                _sweeping = true;
                _sweep.Change(_sweepPeriod, _sweepPeriod);
            }
        }
        if (flush)
        {
            _ = FlushAsync();
        }
        return call.Task;
    }

    /// <summary>Fails every call still waiting and closes the socket; the owner reconnects.</summary>
    public void Close()
    {
        PendingReply[] failed;
        lock (_gate)
        {
            if (_isClosed)
            {
                return;
            }
            _isClosed = true;
            failed = _pending.ToArray();
            _pending.Clear();
        }
        _sweep.Dispose();
        _socket.Dispose();
        foreach (var call in failed)
        {
            call.TrySetResult(new RespOutcome(RespOutcomeKind.Closed, []));
        }
        _closed.TrySetResult();
    }

    private void Append(ReadOnlySpan<byte> command)
    {
        if (_outgoing.Length - _outgoingLength < command.Length)
        {
            Array.Resize(ref _outgoing, Math.Max(_outgoing.Length * 2, _outgoingLength + command.Length));
        }
        command.CopyTo(_outgoing.AsSpan(_outgoingLength));
        _outgoingLength += command.Length;
    }

    /// <summary>One writer at a time sends whatever calls have queued meanwhile, in one write each round.</summary>
    private async Task FlushAsync()
    {
        try
        {
            while (true)
            {
                int length;
                lock (_gate)
                {
                    if (_outgoingLength == 0 || _isClosed)
                    {
                        _flushing = false;
                        return;
                    }
                    (_outgoing, _writing) = (_writing, _outgoing);
                    length = _outgoingLength;
                    _outgoingLength = 0;
                }
                await _socket.SendAsync(_writing.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Close();
        }
    }

    private async Task ReceiveAsync()
    {
        try
        {
            while (true)
            {
                MakeRoom();
                int received = await _socket.ReceiveAsync(_incoming.AsMemory(_incomingEnd), SocketFlags.None).ConfigureAwait(false);
                if (received == 0 || !Deliver(received))
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connection broke or was closed; Close below is a no-op in the second case.
        }
        Close();
    }

    /// <summary>Completes a call for every whole reply received; false when Redis broke the protocol.</summary>
    private bool Deliver(int received)
    {
        _incomingEnd += received;
        while (true)
        {
            int length = _framer.Next(_incoming.AsSpan(_incomingStart, _incomingEnd - _incomingStart));
            if (length < 0)
            {
                return false;
            }
            if (length == 0)
            {
                return _incomingEnd - _incomingStart <= MaxReplyBytes;
            }
            byte[] reply = _incoming.AsSpan(_incomingStart, length).ToArray();
            _incomingStart += length;
            PendingReply? call;
            lock (_gate)
            {
                _pending.TryDequeue(out call);
            }
            if (call is null)
            {
                return false;
            }
            // Outside the lock: the continuation runs here and may send the plugin's next command.
            call.TrySetResult(new RespOutcome(RespOutcomeKind.Reply, reply));
        }
    }

    /// <summary>Keeps free space after the received bytes: moves a partial reply to the front, or grows for a long one.</summary>
    private void MakeRoom()
    {
        if (_incomingStart == _incomingEnd)
        {
            _incomingStart = _incomingEnd = 0;
        }
        if (_incoming.Length - _incomingEnd >= 4096)
        {
            return;
        }
        int partial = _incomingEnd - _incomingStart;
        if (_incomingStart > 0 && partial <= _incoming.Length / 2)
        {
            _incoming.AsSpan(_incomingStart, partial).CopyTo(_incoming);
        }
        else
        {
            var larger = new byte[_incoming.Length * 2];
            _incoming.AsSpan(_incomingStart, partial).CopyTo(larger);
            _incoming = larger;
        }
        _incomingStart = 0;
        _incomingEnd = partial;
    }

    /// <summary>
    /// Times out calls past their deadline; closes the connection when the oldest call has waited past the stall
    /// limit; stops itself once no call waits.
    /// </summary>
    private void Sweep()
    {
        long now = Stopwatch.GetTimestamp();
        List<PendingReply>? late = null;
        bool stalled;
        lock (_gate)
        {
            foreach (var call in _pending)
            {
                if (call.Deadline <= now && !call.Task.IsCompleted)
                {
                    (late ??= []).Add(call);
                }
            }
            stalled = _pending.TryPeek(out var oldest) && now - oldest.Queued > _stallTicks;
            if (_pending.Count == 0 && !_isClosed)
            {
                _sweeping = false;
                _sweep.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }
        if (late is not null)
        {
            foreach (var call in late)
            {
                call.TrySetResult(new RespOutcome(RespOutcomeKind.Timeout, []));
            }
        }
        if (stalled)
        {
            Close();
        }
    }

    /// <summary>A command as a RESP array of bulk strings.</summary>
    private static byte[] Command(params string[] parts)
    {
        var text = new StringBuilder().Append('*').Append(parts.Length).Append("\r\n");
        foreach (string part in parts)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>A call waiting for its reply. Continuations run where it completes (no hand-off).</summary>
    private sealed class PendingReply(long deadline) : TaskCompletionSource<RespOutcome>
    {
        public long Deadline { get; } = deadline;

        public long Queued { get; } = Stopwatch.GetTimestamp();
    }
}

internal enum RespOutcomeKind
{
    Reply,
    Timeout,
    Closed,
}

/// <param name="Reply">The raw reply when <see cref="Kind"/> is <see cref="RespOutcomeKind.Reply"/>; empty otherwise.</param>
internal readonly record struct RespOutcome(RespOutcomeKind Kind, byte[] Reply);
