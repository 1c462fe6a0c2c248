using System.Diagnostics;
using Gateway.Http.Messages;

namespace Gateway.Proxy.Logging;

/// <summary>
/// What one exchange fills in as it goes, for its access log line. One per connection, reused for every request;
/// <see cref="Begin"/> clears it.
/// </summary>
internal sealed class AccessRecord
{
    public long Started { get; private set; }

    public string? Route { get; set; }

    public int Status { get; set; }

    public long DurationTicks { get; set; }

    public string? Upstream { get; set; }

    /// <summary><c>none</c> when no plugin ran; else what the chain decided: <c>continue</c>, <c>local_reply</c>, <c>failed</c>, <c>reset</c>.</summary>
    public string Plugins { get; set; } = PluginOutcomes.None;

    public bool Completed => Status != 0;

    public void Begin(long started)
    {
        Started = started;
        Route = null;
        Status = 0;
        DurationTicks = 0;
        Upstream = null;
        Plugins = PluginOutcomes.None;
    }

    public void Complete(string? route, int status, long elapsedTicks)
    {
        Route = route;
        Status = status;
        DurationTicks = elapsedTicks;
    }

    public AccessLogEntry ToEntry(string listener, HttpRequestHead request, string requestId, long requestBytes, long responseBytes, System.Net.IPEndPoint? client)
    {
        TimeSpan sinceStart = Stopwatch.GetElapsedTime(Started);
        long ticks = Completed ? DurationTicks : sinceStart.Ticks;
        // The wall clock is read once per logged line, not per request: the start is now less the time since it.
        DateTime time = DateTime.UtcNow - sinceStart;
        return new AccessLogEntry(
            time, listener, Route, request.Method, request.Target, Status, requestBytes, responseBytes,
            ticks / (TimeSpan.TicksPerMillisecond / 1000), Upstream, Plugins, requestId, client);
    }
}

/// <summary>The <c>plugins</c> field of an access log line.</summary>
internal static class PluginOutcomes
{
    public const string None = "none";
    public const string Continue = "continue";
    public const string LocalReply = "local_reply";
    public const string Failed = "failed";
    public const string Reset = "reset";
}
