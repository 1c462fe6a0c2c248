using System.Threading.Tasks.Sources;

namespace Gateway.Http.Async;

/// <summary>
/// An awaitable that serves one operation after another without allocating: the caller's <c>ValueTask</c> carries the
/// current version, and taking the result resets the source for the next operation. The base of a socket operation, a
/// pipe's pending call and a pooled async frame.
/// </summary>
internal abstract class ReusableValueTaskSource<TResult> : IValueTaskSource<TResult>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<TResult> _core;

    /// <summary>The version the next awaitable must carry.</summary>
    public short Version => _core.Version;

    public TResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            OnReset();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>Completes the operation; the caller's continuation runs inside this call.</summary>
    protected void SetResult(TResult result) => _core.SetResult(result);

    protected void SetException(Exception exception) => _core.SetException(exception);

    /// <summary>The caller has taken the result: the source may serve the next operation (or go back to a pool).</summary>
    protected virtual void OnReset()
    {
    }
}
