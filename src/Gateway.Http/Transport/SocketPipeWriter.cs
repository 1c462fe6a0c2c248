using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Gateway.Http.Transport;

/// <summary>
/// The output of a plain connection, written straight to its <see cref="WorkerSocketStream"/>. What is written collects in
/// one pooled buffer; a flush sends it with one non-blocking send and, when the socket takes it all (the usual case),
/// completes at once with no async frame and gives the buffer back, so an idle connection holds none. Only a flush the
/// socket cannot take whole waits, on the worker, for room.
/// <para>
/// A cancelled flush (<see cref="CancelPendingFlush"/>, TO-4) ends the socket's pending send too, and drops what it had
/// not sent: the connection cannot carry a response any more. A completion with an error discards what is unsent.
/// </para>
/// </summary>
public sealed class SocketPipeWriter : PipeWriter
{
    internal const int BufferSize = 4096;

    private readonly WorkerSocketStream _socket;
    private readonly WorkerLoop _loop;
    private readonly Action _onSent;
    private readonly PendingPipeCall<FlushResult> _flush;
    private ConfiguredValueTaskAwaitable.ConfiguredValueTaskAwaiter _send;
    private byte[]? _buffer;
    private int _written;
    // The socket is sending from _buffer: it stays ours until the send ends.
    private bool _sending;
    private bool _completed;

    public SocketPipeWriter(WorkerSocketStream socket)
    {
        _socket = socket;
        _loop = socket.Loop;
        _onSent = OnSent;
        // A cancellation ends the send now, and its continuation answers the pending flush as cancelled.
        _flush = new PendingPipeCall<FlushResult>(_loop, () =>
        {
            if (_sending)
            {
                _socket.CancelPendingWrite();
            }
        });
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        MakeRoom(sizeHint);
        return _buffer.AsMemory(_written);
    }

    // Not through GetMemory: a head is written field by field, and Memory.Span costs more than the write it serves.
    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        MakeRoom(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public override void Advance(int bytes)
    {
        if (bytes < 0 || _buffer is null || _written + bytes > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "advanced past the memory that was asked for");
        }
        _written += bytes;
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (!_loop.IsCurrent)
        {
            return new(FlushOnWorker(cancellationToken));
        }
        if (_completed || _flush.IsPending)
        {
            throw new InvalidOperationException(_completed ? "flushing is not allowed after the writer was completed" : "a flush is already pending");
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<FlushResult>(cancellationToken);
        }
        if (_flush.TakeCancelRequest())
        {
            return new(new FlushResult(isCanceled: true, isCompleted: false));
        }
        if (_written == 0)
        {
            return default;
        }
        ReadOnlyMemory<byte> data = _buffer.AsMemory(0, _written);
        try
        {
            if (_socket.TrySendNow(ref data))
            {
                Release();
                return default;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            Release();
            return ValueTask.FromException<FlushResult>(e);
        }
        _sending = true;
        ValueTask<FlushResult> pending = _flush.Begin(cancellationToken);
        // Consumed once, through its awaiter: OnSent takes the result.
#pragma warning disable CA2012
        _send = _socket.SendWhenWritableAsync(data).ConfigureAwait(false).GetAwaiter();
#pragma warning restore CA2012
        _send.UnsafeOnCompleted(_onSent);
        return pending;
    }

    // Its own method: a lambda's captures would otherwise be allocated on every flush, on the worker too.
    private Task<FlushResult> FlushOnWorker(CancellationToken cancellationToken) =>
        _loop.RunAsync(() => FlushAsync(cancellationToken).AsTask());

    /// <summary>Ends the pending flush (or else the next one) with a cancelled result; from any thread.</summary>
    public override void CancelPendingFlush() => _flush.RequestCancel();

    /// <summary>Flushes what is unsent, unless <paramref name="exception"/> says the output is abandoned, then completes.</summary>
    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        try
        {
            if (exception is null && !_completed && _written > 0 && !_flush.IsPending)
            {
                await FlushAsync();
            }
        }
        finally
        {
            Complete(exception);
        }
    }

    /// <summary>Completes the output. Bytes written but not flushed are dropped: a flush sends, a completion only ends.</summary>
    public override void Complete(Exception? exception = null)
    {
        if (!_loop.IsCurrent)
        {
            _loop.Post(static s => ((SocketPipeWriter)s!).Complete(), this);
            return;
        }
        if (_completed)
        {
            return;
        }
        _completed = true;
        if (!_sending)
        {
            Release();
        }
    }

    /// <summary>The socket took the rest, failed, or had the send cancelled: the pending flush ends accordingly.</summary>
    private void OnSent()
    {
        _sending = false;
        Exception? failure = null;
        try
        {
            _send.GetResult();
        }
        catch (Exception e)
        {
            failure = e;
        }
        // Sent or abandoned, the bytes are done with: the buffer goes back whatever the outcome.
        Release();
        if (!_flush.IsPending)
        {
            return;
        }
        if (_flush.TokenCancelled)
        {
            _flush.Fail(_flush.TokenCancellation());
        }
        else if (_flush.TakeCancelRequest())
        {
            _flush.Resolve(new FlushResult(isCanceled: true, isCompleted: false));
        }
        else if (failure is not null)
        {
            _flush.Fail(failure);
        }
        else
        {
            _flush.Resolve(default);
        }
    }

    [MemberNotNull(nameof(_buffer))]
    private void MakeRoom(int sizeHint)
    {
        if (_completed || _sending)
        {
            throw new InvalidOperationException(_completed ? "writing is not allowed after the writer was completed" : "a flush is in progress");
        }
        int needed = Math.Max(sizeHint, 1);
        if (_buffer is null)
        {
            _buffer = _loop.OutputBuffers.Take(Math.Max(needed, BufferSize), _loop);
        }
        else if (_buffer.Length - _written < needed)
        {
            byte[] larger = _loop.OutputBuffers.Take(Math.Max(_buffer.Length * 2, _written + needed), _loop);
            Buffer.BlockCopy(_buffer, 0, larger, 0, _written);
            _loop.OutputBuffers.Give(_buffer, _loop);
            _buffer = larger;
        }
    }

    private void Release()
    {
        if (_buffer is not null)
        {
            _loop.OutputBuffers.Give(_buffer, _loop);
            _buffer = null;
        }
        _written = 0;
    }
}
