using System.Threading.Tasks.Sources;
using Gateway.Plugins.Runtime;

namespace Gateway.Plugins.Contexts;

/// <summary>Completes a paused phase; continuations run on the worker through its synchronization context.</summary>
internal sealed class OutcomeSource : IValueTaskSource<FilterOutcome>
{
    private ManualResetValueTaskSourceCore<FilterOutcome> _core = new() { RunContinuationsAsynchronously = true };

    public ValueTask<FilterOutcome> Pending()
    {
        _core.Reset();
        return new ValueTask<FilterOutcome>(this, _core.Version);
    }

    public void SetResult(FilterOutcome outcome) => _core.SetResult(outcome);

    public FilterOutcome GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
