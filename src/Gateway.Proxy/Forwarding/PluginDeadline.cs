using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Runtime;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// A plugin that pauses a stream and never resumes it must not hold the request forever: a paused phase
/// gets the route's request timeout, then the client receives 504 and the stream is completed.
/// Phases that complete synchronously (the common case) cost nothing extra; a paused one costs a timer, and
/// resumes on the worker like any other continuation, with no hop through the thread pool.
/// </summary>
internal static class PluginDeadline
{
    private static readonly ReadOnlyMemory<byte> TimeoutBody = Encoding.ASCII.GetBytes("{\"status\":504,\"error\":\"plugin did not resume the request in time\"}\n");

    /// <summary>Awaits <paramref name="phase"/> of <paramref name="stream"/>; call on the stream's worker.</summary>
    public static async ValueTask<FilterOutcome> WithinAsync(PluginStream stream, ValueTask<FilterOutcome> phase, int timeoutMs)
    {
        if (phase.IsCompleted)
        {
            return phase.Result;
        }
        var worker = SynchronizationContext.Current
            ?? throw new InvalidOperationException("a plugin phase is awaited on its worker");
        using var expiry = new Timer(static state =>
        {
            var (context, expired) = ((SynchronizationContext, PluginStream))state!;
            context.Post(static s => ((PluginStream)s!).ExpirePausedPhase(TimedOut()), expired);
        }, (worker, stream), timeoutMs, Timeout.Infinite);
        return await phase;
    }

    private static FilterOutcome TimedOut()
    {
        var headers = new HeaderCollection();
        headers.Add("content-type", "application/json");
        return new FilterOutcome(FilterAction.LocalReply, new LocalReply(504, headers, TimeoutBody, "plugin_timeout"));
    }
}
