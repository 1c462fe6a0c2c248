using System.Runtime.CompilerServices;
using System.Text;
using Gateway.Http.Async;
using Gateway.Http.Messages;
using Gateway.Http.Transport;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Runtime;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// A plugin that pauses a stream and never resumes it must not hold the request forever: a paused phase gets the
/// route's request timeout, then the client receives 504 and the stream is completed. Phases that complete
/// synchronously (the common case) cost nothing extra.
/// <para>
/// One per connection, on its worker's deadline table: a connection runs one plugin stream at a time and a stream has
/// at most one paused phase, so one deadline, re-armed per pause, serves every request without a timer, lock or
/// allocation each. It fires on the worker, where the stream lives.
/// </para>
/// </summary>
internal sealed class PluginDeadline : IDisposable
{
    private static readonly ReadOnlyMemory<byte> TimeoutBody = Encoding.ASCII.GetBytes("{\"status\":504,\"error\":\"plugin did not resume the request in time\"}\n");

    private readonly Deadline _deadline;
    private PluginStream? _paused;
    // Counts pauses: a pause whose continuation runs after a newer one began must leave the newer one armed.
    private int _pauses;
    private bool _disposed;

    public PluginDeadline(WorkerDeadlines deadlines)
    {
        _deadline = new Deadline(deadlines, static s => ((PluginDeadline)s!).Expire(), this);
    }

    /// <summary>
    /// Awaits <paramref name="phase"/> of <paramref name="stream"/>, for at most <paramref name="timeoutMs"/> once it
    /// pauses (<see cref="Timeout.Infinite"/>: no bound); call on the stream's worker.
    /// </summary>
    public ValueTask<FilterOutcome> WithinAsync(PluginStream stream, ValueTask<FilterOutcome> phase, int timeoutMs) =>
        phase.IsCompleted || timeoutMs == Timeout.Infinite || _disposed ? phase : PausedAsync(stream, phase, timeoutMs);

    /// <summary>The connection closed: its stream is completed, so a phase that pauses now has nothing to wait for.</summary>
    public void Dispose()
    {
        _disposed = true;
        _deadline.Dispose();
    }

    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<FilterOutcome> PausedAsync(PluginStream stream, ValueTask<FilterOutcome> phase, int timeoutMs)
    {
        int pause = ++_pauses;
        _paused = stream;
        _deadline.Arm(timeoutMs);
        try
        {
            return await phase;
        }
        finally
        {
            if (pause == _pauses)
            {
                _deadline.Disarm();
                _paused = null;
            }
        }
    }

    private void Expire()
    {
        PluginStream? stream = _paused;
        _paused = null;
        stream?.ExpirePausedPhase(TimedOut());
    }

    private static FilterOutcome TimedOut()
    {
        var headers = new HeaderCollection();
        headers.Add("content-type", "application/json");
        return new FilterOutcome(FilterAction.LocalReply, new LocalReply(504, headers, TimeoutBody, "plugin_timeout"));
    }
}
