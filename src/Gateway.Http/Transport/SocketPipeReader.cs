using System.Buffers;
using System.IO.Pipelines;

namespace Gateway.Http.Transport;

/// <summary>
/// The input of a plain connection, read straight from its <see cref="WorkerSocketStream"/>. One pooled buffer holds what
/// has arrived and not been consumed; a read that finds data in the socket fills it with one non-blocking receive and
/// completes at once, with no async frame. Only a read that finds the socket drained waits, for the next readable edge
/// and without a buffer: a connection waiting for its next request holds no memory but this object.
/// <para>
/// Like the stream it runs on the worker. A cancellation (<see cref="CancelPendingRead"/>, a token) from another thread
/// is carried there. The buffer is one array: a consumer that examines everything without consuming (a head not yet
/// complete) has it grown, its unconsumed bytes kept in order; the consumers bound that by their own limits.
/// </para>
/// </summary>
public sealed class SocketPipeReader : PipeReader
{
    internal const int BufferSize = 16 * 1024;
    private const int MinimumReadSize = 4096;

    private readonly WorkerSocketStream _socket;
    private readonly WorkerLoop _loop;
    private readonly Action _onReadable;
    private readonly PendingPipeCall<ReadResult> _read;
    private byte[]? _buffer;
    // The unconsumed bytes are _buffer[_start.._end].
    private int _start;
    private int _end;
    // The consumer examined all it was given: the next read needs bytes that have not arrived yet.
    private bool _examinedEverything;
    private bool _ended;
    // A read's buffer is out with the consumer until it advances.
    private bool _lent;
    // A wait for the socket's next edge is outstanding; it holds no buffer.
    private bool _waiting;
    private bool _completed;

    public SocketPipeReader(WorkerSocketStream socket)
    {
        _socket = socket;
        _loop = socket.Loop;
        _onReadable = OnReadable;
        // A cancellation ends the wait now, and its continuation answers the pending read as cancelled.
        _read = new PendingPipeCall<ReadResult>(_loop, () =>
        {
            if (_waiting)
            {
                _socket.CancelPendingRead();
            }
        });
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (!_loop.IsCurrent)
        {
            return new(ReadOnWorker(cancellationToken));
        }
        ThrowIfUnusable();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ReadResult>(cancellationToken);
        }
        if (TryTake(out ReadResult result))
        {
            return new(result);
        }
        try
        {
            if (!_waiting && TryFill())
            {
                return new(Lend(isCanceled: false));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            return ValueTask.FromException<ReadResult>(e);
        }
        ValueTask<ReadResult> pending = _read.Begin(cancellationToken);
        if (!_waiting)
        {
            WaitForEdge();
        }
        return pending;
    }

    // Its own method: a lambda's captures would otherwise be allocated on every read, on the worker too.
    private Task<ReadResult> ReadOnWorker(CancellationToken cancellationToken) =>
        _loop.RunAsync(() => ReadAsync(cancellationToken).AsTask());

    public override bool TryRead(out ReadResult result)
    {
        ThrowIfUnusable();
        return TryTake(out result);
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_lent)
        {
            throw new InvalidOperationException("no read to advance: AdvanceTo follows each read, once");
        }
        _lent = false;
        if (_buffer is null)
        {
            return;
        }
        int consumedAt = IndexOf(consumed);
        int examinedAt = IndexOf(examined);
        if (consumedAt < _start || examinedAt < consumedAt)
        {
            throw new ArgumentOutOfRangeException(nameof(consumed), "positions must lie in the last read's buffer, consumed before examined");
        }
        _examinedEverything = examinedAt == _end;
        _start = consumedAt;
        if (_start == _end)
        {
            Release();
        }
    }

    /// <summary>Ends the pending read (or else the next one) with a cancelled result; from any thread.</summary>
    public override void CancelPendingRead() => _read.RequestCancel();

    public override void Complete(Exception? exception = null)
    {
        if (!_loop.IsCurrent)
        {
            _loop.Post(static s => ((SocketPipeReader)s!).Complete(), this);
            return;
        }
        if (_completed)
        {
            return;
        }
        _completed = true;
        // No socket operation ever holds the buffer (waits read nothing), so it can go back at once.
        Release();
        if (_read.IsPending)
        {
            _read.Fail(new InvalidOperationException("the reader was completed while a read was pending"));
        }
    }

    /// <summary>A read that can be answered without the socket: the consumer's unexamined bytes, the end, a cancellation.</summary>
    private bool TryTake(out ReadResult result)
    {
        if (_read.TakeCancelRequest())
        {
            result = Lend(isCanceled: true);
            return true;
        }
        if (_ended || (_end > _start && !_examinedEverything))
        {
            result = Lend(isCanceled: false);
            return true;
        }
        result = default;
        return false;
    }

    /// <summary>One receive after the bytes kept; false when the socket had nothing (the buffer goes back if it is empty).</summary>
    private bool TryFill()
    {
        // A socket known to be drained is not read, nor a buffer taken for it: the read waits for the edge.
        if (!_socket.MayHaveData() || !_socket.TryReceiveNow(Room(), out int received))
        {
            if (_end == _start)
            {
                Release();
            }
            return false;
        }
        if (received == 0)
        {
            _ended = true;
        }
        _end += received;
        _examinedEverything = false;
        return true;
    }

    /// <summary>The free part of the buffer after the bytes kept, with room for one receive.</summary>
    private Memory<byte> Room()
    {
        if (_buffer is null)
        {
            _buffer = _loop.InputBuffers.Take(BufferSize, _loop);
        }
        else if (_buffer.Length - _end < MinimumReadSize)
        {
            MoveKept();
        }
        return _buffer.AsMemory(_end);
    }

    /// <summary>Moves the kept bytes to the front, into a larger buffer when they leave too little room.</summary>
    private void MoveKept()
    {
        int kept = _end - _start;
        byte[] target = _buffer!.Length - kept >= MinimumReadSize
            ? _buffer
            : _loop.InputBuffers.Take(Math.Max(_buffer.Length * 2, kept + MinimumReadSize), _loop);
        Buffer.BlockCopy(_buffer, _start, target, 0, kept);
        if (target != _buffer)
        {
            _loop.InputBuffers.Give(_buffer, _loop);
            _buffer = target;
        }
        _start = 0;
        _end = kept;
    }

    private void WaitForEdge()
    {
        _waiting = true;
        if (_socket.WaitReadable(_onReadable))
        {
            OnReadable();
        }
    }

    /// <summary>The socket's edge (or its failure, or a cancellation of the wait) came: the pending read goes on.</summary>
    private void OnReadable()
    {
        _waiting = false;
        Exception? failure = _socket.TakeReadFailure();
        if (!_read.IsPending)
        {
            return;
        }
        if (_read.TokenCancelled)
        {
            _read.Fail(_read.TokenCancellation());
        }
        else if (_read.TakeCancelRequest())
        {
            _read.Resolve(Lend(isCanceled: true));
        }
        else if (failure is not null)
        {
            _read.Fail(failure);
        }
        else
        {
            try
            {
                if (TryFill())
                {
                    _read.Resolve(Lend(isCanceled: false));
                }
                else
                {
                    WaitForEdge();
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _read.Fail(e);
            }
        }
    }

    private ReadResult Lend(bool isCanceled)
    {
        _lent = true;
        ReadOnlySequence<byte> data = _buffer is null ? ReadOnlySequence<byte>.Empty : new(_buffer, _start, _end - _start);
        return new ReadResult(data, isCanceled, _ended);
    }

    private int IndexOf(SequencePosition position)
    {
        if (!ReferenceEquals(position.GetObject(), _buffer) || position.GetInteger() > _end)
        {
            throw new ArgumentOutOfRangeException(nameof(position), "the position is not in the last read's buffer");
        }
        return position.GetInteger();
    }

    private void Release()
    {
        if (_buffer is not null)
        {
            _loop.InputBuffers.Give(_buffer, _loop);
            _buffer = null;
        }
        _start = 0;
        _end = 0;
    }

    private void ThrowIfUnusable()
    {
        if (_completed)
        {
            throw new InvalidOperationException("reading is not allowed after the reader was completed");
        }
        if (_read.IsPending)
        {
            throw new InvalidOperationException("a read is already pending");
        }
    }
}
