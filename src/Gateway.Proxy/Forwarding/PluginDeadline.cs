using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// A plugin that pauses a stream and never resumes it must not hold the request forever: a paused phase
/// gets the route's request timeout, then the client receives 504 and the stream is completed.
/// Phases that complete synchronously (the common case) cost nothing extra.
/// </summary>
public static class PluginDeadline
{
    private static readonly ReadOnlyMemory<byte> TimeoutBody = Encoding.ASCII.GetBytes("{\"status\":504,\"error\":\"plugin did not resume the request in time\"}\n");

    public static async ValueTask<FilterOutcome> WithinAsync(ValueTask<FilterOutcome> phase, int timeoutMs)
    {
        if (phase.IsCompleted)
        {
            return phase.Result;
        }
        try
        {
            return await phase.AsTask().WaitAsync(TimeSpan.FromMilliseconds(timeoutMs));
        }
        catch (TimeoutException)
        {
            var headers = new HeaderCollection();
            headers.Add("content-type", "application/json");
            return new FilterOutcome(FilterAction.LocalReply, new LocalReply(504, headers, TimeoutBody, "plugin_timeout"));
        }
    }
}
