using Gateway.Http.Async;

namespace Gateway.Http.Transport;

/// <summary>
/// The one pending read or the one pending write of a <see cref="WorkerSocketStream"/>: what it waits to move, and the
/// awaitable its caller holds. One instance serves every operation of its kind on the connection, so waiting on the
/// network allocates nothing. It completes on the worker's thread, running the caller's continuation right there.
/// A caller on the worker may instead wait with a plain callback (<see cref="PendThen"/>): no awaiter, no result to take.
/// </summary>
internal sealed class SocketOperation : ReusableValueTaskSource<int>
{
    private readonly WorkerLoop _loop;
    private CancellationToken _token;
    private CancellationTokenRegistration _registration;
    private Action? _then;
    private Exception? _failure;

    public SocketOperation(WorkerLoop loop)
    {
        _loop = loop;
    }

    public bool IsPending { get; private set; }

    /// <summary>Where a pending read puts what arrives.</summary>
    public Memory<byte> Into { get; set; }

    /// <summary>What a pending write has still to send.</summary>
    public ReadOnlyMemory<byte> From { get; set; }

    /// <summary>recv flags of a pending read (a peek).</summary>
    public int Flags { get; set; }

    /// <summary>Marks the operation pending; returns the token of the awaitable its caller gets.</summary>
    public short Pend(CancellationToken token)
    {
        IsPending = true;
        if (token.CanBeCanceled)
        {
            _token = token;
            // A deadline fires on a timer thread: the cancellation itself is done on the worker, like every completion.
            _registration = token.UnsafeRegister(static s => ((SocketOperation)s!).RequestCancel(), this);
        }
        return Version;
    }

    /// <summary>Marks the operation pending with <paramref name="then"/> to run, on the worker, when it ends.</summary>
    public void PendThen(Action then)
    {
        IsPending = true;
        _then = then;
    }

    /// <summary>Why the operation that ran its callback failed; null when it completed.</summary>
    public Exception? TakeFailure()
    {
        Exception? failure = _failure;
        _failure = null;
        return failure;
    }

    public void Complete(int result)
    {
        End();
        if (TakeThen() is { } then)
        {
            then();
            return;
        }
        SetResult(result);
    }

    public void Fail(Exception e)
    {
        End();
        if (TakeThen() is { } then)
        {
            _failure = e;
            then();
            return;
        }
        SetException(e);
    }

    private Action? TakeThen()
    {
        Action? then = _then;
        _then = null;
        return then;
    }

    /// <summary>Ends a pending operation with a cancellation, at once; its caller's continuation runs inside this call.</summary>
    public void Cancel()
    {
        if (IsPending)
        {
            Fail(new OperationCanceledException());
        }
    }

    /// <summary>The socket closed under a pending operation: it fails, as a later step on the worker.</summary>
    public void Abort()
    {
        if (IsPending)
        {
            _loop.Post(static s => ((SocketOperation)s!).FailIfPending(), this);
        }
    }

    private void End()
    {
        IsPending = false;
        _registration.Unregister();
        _registration = default;
        _token = default;
        Into = default;
        From = default;
    }

    private void RequestCancel() => _loop.Post(static s => ((SocketOperation)s!).CancelIfRequested(), this);

    private void CancelIfRequested()
    {
        // The operation may have completed since, and a later one with another token may be pending.
        if (IsPending && _token.IsCancellationRequested)
        {
            Fail(new OperationCanceledException(_token));
        }
    }

    private void FailIfPending()
    {
        if (IsPending)
        {
            Fail(WorkerSocketStream.Aborted());
        }
    }
}
