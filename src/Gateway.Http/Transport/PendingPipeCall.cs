using Gateway.Http.Async;

namespace Gateway.Http.Transport;

/// <summary>
/// The one pending read of a <see cref="SocketPipeReader"/> or flush of a <see cref="SocketPipeWriter"/>: the awaitable
/// its caller holds, the caller's token, and the two ways it can be cut short. <see cref="RequestCancel"/> (the pipe's
/// CancelPendingRead or CancelPendingFlush, from any thread) and the caller's token both end the pipe's socket operation
/// on the worker, through the pipe's own cancel action; the pipe then answers the call as cancelled. One per pipe, so
/// waiting allocates nothing.
/// </summary>
internal sealed class PendingPipeCall<TResult> : ReusableValueTaskSource<TResult>
{
    private readonly WorkerLoop _loop;
    private readonly Action _cancelSocketOperation;
    private CancellationToken _token;
    private CancellationTokenRegistration _registration;

    /// <param name="cancelSocketOperation">Ends the pipe's outstanding socket operation now, if it has one; run on the worker.</param>
    public PendingPipeCall(WorkerLoop loop, Action cancelSocketOperation)
    {
        _loop = loop;
        _cancelSocketOperation = cancelSocketOperation;
    }

    public bool IsPending { get; private set; }

    /// <summary>The pipe was asked to cancel its call: the pending one, or else the next.</summary>
    public bool CancelRequested { get; private set; }

    /// <summary>The pending call's token fired; the call ends with its <see cref="OperationCanceledException"/>.</summary>
    public bool TokenCancelled { get; private set; }

    /// <summary>Marks a call pending and returns its awaitable; its token, if it can fire, will cancel it.</summary>
    public ValueTask<TResult> Begin(CancellationToken token)
    {
        IsPending = true;
        if (token.CanBeCanceled)
        {
            _token = token;
            _registration = token.UnsafeRegister(static s => ((PendingPipeCall<TResult>)s!).OnTokenCancelled(), this);
        }
        return new(this, Version);
    }

    /// <summary>Asks for the pending call (or else the next one) to end as cancelled; from any thread.</summary>
    public void RequestCancel()
    {
        if (_loop.IsCurrent)
        {
            CancelNow();
        }
        else
        {
            _loop.Post(static s => ((PendingPipeCall<TResult>)s!).CancelNow(), this);
        }
    }

    /// <summary>Takes a cancellation request: true once per request.</summary>
    public bool TakeCancelRequest()
    {
        bool requested = CancelRequested;
        CancelRequested = false;
        return requested;
    }

    public OperationCanceledException TokenCancellation() => new(_token);

    public void Resolve(TResult result)
    {
        End();
        SetResult(result);
    }

    public void Fail(Exception exception)
    {
        End();
        SetException(exception);
    }

    private void CancelNow()
    {
        CancelRequested = true;
        _cancelSocketOperation();
    }

    // A token fires on whatever thread cancelled it: the socket operation is ended on the worker, like every completion.
    private void OnTokenCancelled() => _loop.Post(static s => ((PendingPipeCall<TResult>)s!).CancelByToken(), this);

    private void CancelByToken()
    {
        if (IsPending && _token.IsCancellationRequested)
        {
            TokenCancelled = true;
            _cancelSocketOperation();
        }
    }

    private void End()
    {
        IsPending = false;
        TokenCancelled = false;
        _registration.Unregister();
        _registration = default;
        _token = default;
    }
}
