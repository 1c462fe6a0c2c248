using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Gateway.Http.Async;

/// <summary>
/// Builds <c>async ValueTask&lt;TResult&gt;</c> methods whose frames are pooled per thread without a small bound. The
/// runtime's pooling builder keeps one idle frame per thread and per core, so with many connections waiting at the
/// same await, a worker allocates most frames afresh; this one keeps up to a few hundred per method and thread, so a
/// worker's exchanges reuse frames that are still in its cache. A method that completes without suspending uses no
/// frame at all.
/// <para>
/// It runs the state machine without capturing or restoring an execution context: the methods it builds run on a
/// worker, whose work keeps no async-local state (docs/design.md, 'Workers').
/// </para>
/// </summary>
public struct PooledFrameBuilder<TResult>
{
    private PooledFrame<TResult>? _frame;
    private TResult _result;
    private Exception? _exception;

    [SuppressMessage("Design", "CA1000", Justification = "The async method builder pattern requires a static Create.")]
    public static PooledFrameBuilder<TResult> Create() => default;

    public readonly ValueTask<TResult> Task =>
        _frame is not null ? new(_frame, _frame.Version)
        : _exception is not null ? ValueTask.FromException<TResult>(_exception)
        : new(_result);

    /// <summary>The same, for a method that returns a plain <c>ValueTask</c> (<see cref="PooledFrameVoidBuilder"/>).</summary>
    internal readonly ValueTask UntypedTask =>
        _frame is not null ? new(_frame, _frame.Version)
        : _exception is not null ? ValueTask.FromException(_exception)
        : default;

    public void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => stateMachine.MoveNext();

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
        // Frames are made by the builder itself (FrameOf), never handed one.
    }

    public void SetResult(TResult result)
    {
        if (_frame is null)
        {
            _result = result;
        }
        else
        {
            _frame.Complete(result);
        }
    }

    public void SetException(Exception exception)
    {
        if (_frame is null)
        {
            _exception = exception;
        }
        else
        {
            _frame.Fail(exception);
        }
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine => awaiter.OnCompleted(FrameOf(ref stateMachine).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine => awaiter.UnsafeOnCompleted(FrameOf(ref stateMachine).MoveNextAction);

    private PooledFrame<TResult> FrameOf<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        if (_frame is not null)
        {
            return _frame;
        }
        PooledFrame<TResult, TStateMachine> frame = PooledFrame<TResult, TStateMachine>.Rent();
        // Set before the copy: the frame's own copy of the state machine holds this builder, which must know its frame.
        _frame = frame;
        frame.StateMachine = stateMachine;
        return frame;
    }
}
