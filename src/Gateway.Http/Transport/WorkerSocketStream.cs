using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static Gateway.Http.Transport.SystemCalls;

namespace Gateway.Http.Transport;

/// <summary>
/// A connected socket driven by its worker's own epoll (<see cref="SocketPoller"/>), as a <see cref="Stream"/>. A read
/// or write is tried at once with a non-blocking system call and waits only when the socket has nothing to give or no
/// room; the worker's poll completes it on the worker's thread, continuation included. Like an event loop it tracks
/// readiness: a read that came back short drained the socket, so the next read waits for the next edge instead of
/// asking the kernel for the EAGAIN it knows is coming. A zero-byte read waits for data without a buffer or a call.
/// <para>
/// It is made on its worker, and its operations run there. A caller on another thread (a TLS library resuming on the
/// thread pool) has its operation started on the worker, at the cost of a post.
/// </para>
/// </summary>
public sealed class WorkerSocketStream : Stream
{
    private readonly WorkerLoop _loop;
    private readonly int _fd;
    private readonly ulong _key;
    private readonly SocketOperation _read;
    private readonly SocketOperation _write;
    // False once a read found the socket drained; the next readable edge sets it again.
    private bool _readable = true;
    // Set by the first event that reports the peer's FIN (or an error): no edge follows it, so reads never wait again.
    private bool _readClosed;
    private bool _disposed;

    public WorkerSocketStream(Socket socket, WorkerLoop loop)
    {
        EnsureOn(loop);
        Socket = socket;
        _loop = loop;
        socket.Blocking = false;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _read = new SocketOperation(loop);
        _write = new SocketOperation(loop);
        _key = loop.Poller.Add(_fd, this);
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/> on <paramref name="loop"/>'s epoll, trying its addresses in turn; throws a
    /// <see cref="SocketException"/> when none accepts, or <see cref="OperationCanceledException"/> at the deadline. The
    /// runtime's socket engine never sees the socket, so its events wake only this worker.
    /// </summary>
    public static async Task<WorkerSocketStream> ConnectAsync(DnsEndPoint endpoint, WorkerLoop loop, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = IPAddress.TryParse(endpoint.Host, out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        SocketException failure = new((int)SocketError.HostNotFound);
        foreach (IPAddress address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, Blocking = false };
            WorkerSocketStream? stream = null;
            try
            {
                try
                {
                    socket.Connect(new IPEndPoint(address, endpoint.Port));
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
                {
                    // Under way: the socket turns writable (or fails) when the handshake ends.
                }
                stream = new WorkerSocketStream(socket, loop);
                await stream.ConnectedAsync(cancellationToken);
                return stream;
            }
            catch (Exception e)
            {
                if (stream is null)
                {
                    socket.Dispose();
                }
                else
                {
                    stream.Dispose();
                }
                if (e is not SocketException refused)
                {
                    throw;
                }
                failure = refused;
            }
        }
        throw failure;
    }

    /// <summary>The worker whose epoll carries the socket; its operations run there.</summary>
    internal WorkerLoop Loop => _loop;

    /// <summary>The socket, for its addresses and options and for shutting down a direction; never for I/O.</summary>
    public Socket Socket { get; }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _loop.IsCurrent ? Receive(buffer, 0, cancellationToken) : new(ReceiveOnWorker(buffer, 0, cancellationToken));

    /// <summary>Waits for data and copies what has arrived into <paramref name="buffer"/>, leaving it to be read.</summary>
    public ValueTask<int> PeekAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _loop.IsCurrent ? Receive(buffer, MSG_PEEK, cancellationToken) : new(ReceiveOnWorker(buffer, MSG_PEEK, cancellationToken));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _loop.IsCurrent ? Send(buffer, cancellationToken) : new(SendOnWorker(buffer, cancellationToken));

    // The calls from another thread have their own methods: a lambda's captures would otherwise be allocated on every call.
    private Task<int> ReceiveOnWorker(Memory<byte> buffer, int flags, CancellationToken cancellationToken) =>
        _loop.RunAsync(() => Receive(buffer, flags, cancellationToken).AsTask());

    private Task SendOnWorker(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
        _loop.RunAsync(() => Send(buffer, cancellationToken).AsTask());

    /// <summary>False when the socket is known to be drained until its next edge: a read now would find nothing.</summary>
    internal bool MayHaveData()
    {
        Begin(_read);
        return _readable;
    }

    /// <summary>
    /// One receive into <paramref name="buffer"/> now, never waiting: false, with no system call, when the socket is known
    /// to be drained, or when the receive finds it so. A pipe over the socket (<see cref="SocketPipeReader"/>) then waits
    /// for the next edge with <see cref="WaitReadable"/>, holding no buffer.
    /// </summary>
    internal bool TryReceiveNow(Memory<byte> buffer, out int received)
    {
        Begin(_read);
        received = 0;
        return _readable && TryReceive(buffer, 0, out received);
    }

    /// <summary>
    /// True when the socket is readable now (data, the FIN or an error); otherwise <paramref name="onEdge"/> runs on the
    /// worker at its next readable edge, or when the wait is cancelled or the socket closed under it, which
    /// <see cref="TakeReadFailure"/> then tells. Reads nothing.
    /// </summary>
    internal bool WaitReadable(Action onEdge)
    {
        Begin(_read);
        if (_readable && TryReceive(Memory<byte>.Empty, 0, out _))
        {
            return true;
        }
        _read.Flags = 0;
        _read.PendThen(onEdge);
        return false;
    }

    /// <summary>Why the wait that ran its callback ended without an edge; null for an edge.</summary>
    internal Exception? TakeReadFailure() => _read.TakeFailure();

    /// <summary>Sends as much as the socket takes now; false, with <paramref name="data"/> left to send, when it is full.</summary>
    internal bool TrySendNow(ref ReadOnlyMemory<byte> data)
    {
        Begin(_write);
        return TrySend(ref data);
    }

    /// <summary>Sends <paramref name="rest"/>, which a full socket refused a moment ago, as the socket drains.</summary>
    internal ValueTask SendWhenWritableAsync(ReadOnlyMemory<byte> rest)
    {
        Begin(_write);
        _write.From = rest;
        return new ValueTask(_write, _write.Pend(default));
    }

    /// <summary>Ends a pending read with an <see cref="OperationCanceledException"/>, on the worker, at once.</summary>
    internal void CancelPendingRead() => _read.Cancel();

    /// <summary>Ends a pending write the same way; what it had not sent stays unsent.</summary>
    internal void CancelPendingWrite() => _write.Cancel();

    private ValueTask Send(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        Begin(_write);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        if (TrySend(ref buffer))
        {
            return default;
        }
        _write.From = buffer;
        return new ValueTask(_write, _write.Pend(cancellationToken));
    }

    private async ValueTask ConnectedAsync(CancellationToken cancellationToken)
    {
        Begin(_write);
        // Writable, or failed: either way the handshake is over, and the socket's pending error tells which.
        await new ValueTask(_write, _write.Pend(cancellationToken));
        int error = PendingError();
        if (error != 0)
        {
            throw new SocketException((int)ErrorOf(error));
        }
    }

    private unsafe int PendingError()
    {
        int error = 0;
        int length = sizeof(int);
        return getsockopt(_fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 ? error : Marshal.GetLastPInvokeError();
    }

    /// <summary>The worker's poll reports the socket's events; pending operations go on.</summary>
    internal void OnEvents(uint events)
    {
        if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        {
            _readClosed = true;
        }
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        {
            _readable = true;
            if (_read.IsPending)
            {
                ContinueRead();
            }
        }
        if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0 && _write.IsPending && !_disposed)
        {
            ContinueWrite();
        }
    }

    internal static IOException Aborted() =>
        new("the connection was closed by the gateway", new SocketException((int)SocketError.OperationAborted));

    private ValueTask<int> Receive(Memory<byte> buffer, int flags, CancellationToken cancellationToken)
    {
        Begin(_read);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        if (_readable && TryReceive(buffer, flags, out int received))
        {
            return new ValueTask<int>(received);
        }
        _read.Into = buffer;
        _read.Flags = flags;
        return new ValueTask<int>(_read, _read.Pend(cancellationToken));
    }

    private void ContinueRead()
    {
        if (_read.Into.IsEmpty && _read.Flags == 0)
        {
            // A zero-byte read waits for the edge itself: data, the FIN or an error is there for the next read to take.
            _read.Complete(0);
            return;
        }
        try
        {
            if (TryReceive(_read.Into, _read.Flags, out int received))
            {
                _read.Complete(received);
            }
        }
        catch (IOException e)
        {
            _read.Fail(e);
        }
    }

    private void ContinueWrite()
    {
        ReadOnlyMemory<byte> rest = _write.From;
        try
        {
            if (TrySend(ref rest))
            {
                _write.Complete(0);
                return;
            }
            _write.From = rest;
        }
        catch (IOException e)
        {
            _write.Fail(e);
        }
    }

    /// <summary>
    /// One receive; false when the socket had nothing (EAGAIN). A zero-byte read asks only whether anything is there, with
    /// a one-byte peek, and answers 0 either way; the caller's next read takes it.
    /// </summary>
    private unsafe bool TryReceive(Memory<byte> buffer, int flags, out int received)
    {
        bool onlyWait = buffer.IsEmpty;
        byte peeked;
        while (true)
        {
            nint n;
            fixed (byte* into = buffer.Span)
            {
                n = onlyWait ? recv(_fd, &peeked, 1, MSG_PEEK) : recv(_fd, into, buffer.Length, flags);
            }
            if (n >= 0)
            {
                // A short read drained the socket: until the next edge, another read would only return EAGAIN. Not after
                // the peer's FIN, though: the read that returns 0 for it gets no edge of its own.
                if (n > 0 && n < buffer.Length && flags == 0 && !_readClosed)
                {
                    _readable = false;
                }
                received = onlyWait ? 0 : (int)n;
                return true;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                _readable = false;
                received = 0;
                return false;
            }
            if (errno != EINTR)
            {
                throw Failed(errno, "receive");
            }
        }
    }

    /// <summary>Sends as much of <paramref name="data"/> as the socket takes; false, with the rest left, when it is full.</summary>
    private unsafe bool TrySend(ref ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            nint n;
            fixed (byte* from = data.Span)
            {
                n = send(_fd, from, data.Length, MSG_NOSIGNAL);
            }
            if (n >= 0)
            {
                data = data[(int)n..];
                continue;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                return false;
            }
            if (errno != EINTR)
            {
                throw Failed(errno, "send");
            }
        }
        return true;
    }

    private void Begin(SocketOperation operation)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (operation.IsPending)
        {
            throw new InvalidOperationException("a socket operation of the same kind is already pending");
        }
    }

    private static void EnsureOn(WorkerLoop loop)
    {
        if (!loop.IsCurrent)
        {
            throw new InvalidOperationException("a worker socket was used off its worker");
        }
    }

    private static IOException Failed(int errno, string what) =>
        new($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)}", new SocketException((int)ErrorOf(errno)));

    /// <summary>The errno values a connection meets, as the runtime names them.</summary>
    private static SocketError ErrorOf(int errno) => errno switch
    {
        32 => SocketError.Shutdown,
        101 => SocketError.NetworkUnreachable,
        103 => SocketError.ConnectionAborted,
        104 => SocketError.ConnectionReset,
        110 => SocketError.TimedOut,
        111 => SocketError.ConnectionRefused,
        113 => SocketError.HostUnreachable,
        _ => SocketError.SocketError,
    };

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            if (_loop.IsCurrent)
            {
                _disposed = true;
                _loop.Poller.Remove(_fd, _key);
                Socket.Dispose();
                _read.Abort();
                _write.Abort();
            }
            else
            {
                _loop.Post(static s => ((WorkerSocketStream)s!).Dispose(), this);
            }
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw Blocking();

    public override void Write(byte[] buffer, int offset, int count) => throw Blocking();

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private static NotSupportedException Blocking() => new("a worker socket is never read or written synchronously");
}
