using System.Runtime.CompilerServices;

namespace Gateway.Http.Async;

/// <summary>
/// The heap frame of a suspended async method built by <see cref="PooledFrameBuilder{TResult}"/>: the state machine,
/// and the awaitable its caller holds. It goes back to its thread's pool when the caller takes the result.
/// </summary>
internal abstract class PooledFrame<TResult> : ReusableValueTaskSource<TResult>
{
    protected PooledFrame()
    {
        MoveNextAction = MoveNext;
    }

    /// <summary>Resumes the method: the continuation every await of the method registers.</summary>
    public Action MoveNextAction { get; }

    /// <summary>The method returned: its caller resumes.</summary>
    public void Complete(TResult result) => SetResult(result);

    /// <summary>The method threw: its caller resumes with the exception.</summary>
    public void Fail(Exception exception) => SetException(exception);

    protected override void OnReset() => ReturnToPool();

    protected abstract void MoveNext();

    /// <summary>Clears the state machine and puts the frame back in the pool of the thread that took the result.</summary>
    protected abstract void ReturnToPool();
}

/// <summary>A frame of one method (<typeparamref name="TStateMachine"/>), pooled per thread.</summary>
internal sealed class PooledFrame<TResult, TStateMachine> : PooledFrame<TResult>
    where TStateMachine : IAsyncStateMachine
{
    // Frames in flight per method and worker are about its connections waiting at that await; beyond this many kept
    // idle the rest go to the GC, which is the runtime's own builder's behaviour for every frame past one per core.
    private const int MaxPooled = 256;

    [ThreadStatic]
    private static PooledFrame<TResult, TStateMachine>[]? t_pool;
    [ThreadStatic]
    private static int t_count;

    public TStateMachine StateMachine = default!;

    public static PooledFrame<TResult, TStateMachine> Rent()
    {
        PooledFrame<TResult, TStateMachine>[]? pool = t_pool;
        if (pool is not null && t_count > 0)
        {
            int last = --t_count;
            PooledFrame<TResult, TStateMachine> frame = pool[last];
            pool[last] = null!;
            return frame;
        }
        return new PooledFrame<TResult, TStateMachine>();
    }

    protected override void MoveNext() => StateMachine.MoveNext();

    protected override void ReturnToPool()
    {
        StateMachine = default!;
        PooledFrame<TResult, TStateMachine>[] pool = t_pool ??= new PooledFrame<TResult, TStateMachine>[MaxPooled];
        if (t_count < pool.Length)
        {
            pool[t_count++] = this;
        }
    }
}
