using Microsoft.Extensions.Logging;

namespace Gateway.Proxy;

/// <summary>Log lines of the listeners, TLS, tunnels and the access log (event ids 160-179).</summary>
internal static partial class EdgeLog
{
    [LoggerMessage(EventId = 160, EventName = "listener_at_capacity", Level = LogLevel.Warning,
        Message = "listener {Name} is at maxConnections ({MaxConnections}): new connections are closed at accept until one ends")]
    public static partial void ListenerAtCapacity(ILogger logger, string name, int maxConnections);
}
