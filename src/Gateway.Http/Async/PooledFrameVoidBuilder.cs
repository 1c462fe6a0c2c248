using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Gateway.Http.Async;

/// <summary><see cref="PooledFrameBuilder{TResult}"/> for methods that return a plain <c>ValueTask</c>.</summary>
public struct PooledFrameVoidBuilder
{
    private PooledFrameBuilder<bool> _inner;

    public static PooledFrameVoidBuilder Create() => default;

    public readonly ValueTask Task => _inner.UntypedTask;

    [SuppressMessage("Performance", "CA1822", Justification = "The async method builder pattern calls it on the instance.")]
    public void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => stateMachine.MoveNext();

    [SuppressMessage("Performance", "CA1822", Justification = "The async method builder pattern calls it on the instance.")]
    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
        // As PooledFrameBuilder: frames are made by the builder itself.
    }

    public void SetResult() => _inner.SetResult(true);

    public void SetException(Exception exception) => _inner.SetException(exception);

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine => _inner.AwaitOnCompleted(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine => _inner.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);
}
