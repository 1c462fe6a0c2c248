using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Gateway.Http.Async;

namespace Gateway.Http.Tests.Async;

/// <summary>
/// Methods built with the pooled-frame builders: results and exceptions reach the caller whether the method suspended
/// or not, many suspended at once each keep their own state, and a method that suspends again on the same thread gets the
/// frame its last call gave back.
/// </summary>
public sealed class PooledFrameBuilderTests
{
    [Fact]
    public async Task AMethodThatDoesNotSuspend_ReturnsItsResultAtOnce()
    {
        ValueTask<int> result = AddAsync(null, 2);
        Assert.True(result.IsCompletedSuccessfully);
        Assert.Equal(3, await result);
    }

    [Fact]
    public async Task AMethodThatSuspends_ReturnsItsResultWhenResumed()
    {
        var gate = new Gate();
        ValueTask<int> result = AddAsync(gate, 2);
        Assert.False(result.IsCompleted);
        gate.Open(40);
        Assert.Equal(42, await result);

        ValueTask done = WaitAsync(gate);
        Assert.False(done.IsCompleted);
        gate.Open(0);
        await done;
    }

    [Fact]
    public async Task Exceptions_ReachTheCaller_BeforeOrAfterASuspension()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await FailAsync(null));
        var gate = new Gate();
        ValueTask<int> failing = FailAsync(gate);
        gate.Open(0);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await failing);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await FailVoidAsync(null));
        var second = new Gate();
        ValueTask failingVoid = FailVoidAsync(second);
        second.Open(0);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await failingVoid);
    }

    [Fact]
    public async Task ManyMethodsSuspendedAtOnce_EachKeepTheirOwnState()
    {
        // More than a thread's pool keeps, so frames are both reused and made afresh.
        var gates = new Gate[600];
        var results = new ValueTask<int>[gates.Length];
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < gates.Length; i++)
            {
                gates[i] = new Gate();
                results[i] = AddAsync(gates[i], i);
            }
            for (int i = gates.Length - 1; i >= 0; i--)
            {
                gates[i].Open(round);
            }
            for (int i = 0; i < gates.Length; i++)
            {
                Assert.Equal(i + round, await results[i]);
            }
        }
    }

    [Fact]
    public async Task AMethodThatSuspendsAgain_OnTheSameThread_ReusesItsFrame()
    {
        // On a pool thread, as on a worker: no synchronization context or scheduler for the awaits to post to.
        (object first, object second, object third) = await Task.Run(() =>
        {
            var gate = new Gate();
            object a = SuspendAndResume(gate);
            object b = SuspendAndResume(gate);
            ValueTask<int> held = AddAsync(gate, 1);
            // A frame still held by its caller is not handed out again.
            var other = new Gate();
            object c = FrameOf(AddAsync(other, 1));
            gate.Open(1);
            other.Open(1);
            return held.Result == 2 ? (a, b, c) : throw new InvalidOperationException("wrong result");
        }, TestContext.Current.CancellationToken);
        Assert.Same(first, second);
        Assert.NotSame(first, third);
    }

    /// <summary>One call that suspends and is resumed; returns its frame, which taking the result gave back to the pool.</summary>
    private static object SuspendAndResume(Gate gate)
    {
        ValueTask<int> result = AddAsync(gate, 1);
        object frame = FrameOf(result);
        gate.Open(1);
        // Completed inline by Open: taking the result returns the frame to this thread's pool.
        return result.Result == 2 ? frame : throw new InvalidOperationException("wrong result");
    }

    // The awaitable behind a ValueTask is not public; the test looks, the product never does.
    private static object FrameOf(ValueTask<int> task) =>
        typeof(ValueTask<int>).GetField("_obj", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(task)!;

    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private static async ValueTask<int> AddAsync(Gate? gate, int value)
    {
        int added = gate is null ? 1 : await gate.WaitAsync();
        return value + added;
    }

    [AsyncMethodBuilder(typeof(PooledFrameVoidBuilder))]
    private static async ValueTask WaitAsync(Gate gate) => await gate.WaitAsync();

    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private static async ValueTask<int> FailAsync(Gate? gate)
    {
        if (gate is not null)
        {
            await gate.WaitAsync();
        }
        throw new InvalidOperationException("failed");
    }

    [AsyncMethodBuilder(typeof(PooledFrameVoidBuilder))]
    private static async ValueTask FailVoidAsync(Gate? gate)
    {
        if (gate is not null)
        {
            await gate.WaitAsync();
        }
        throw new InvalidOperationException("failed");
    }

    /// <summary>An awaitable the test completes by hand, reusable like a socket operation.</summary>
    private sealed class Gate : IValueTaskSource<int>
    {
        private ManualResetValueTaskSourceCore<int> _core;

        public ValueTask<int> WaitAsync() => new(this, _core.Version);

        public void Open(int value) => _core.SetResult(value);

        public int GetResult(short token)
        {
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                _core.Reset();
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
