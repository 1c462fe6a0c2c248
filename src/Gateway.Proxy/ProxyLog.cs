using Microsoft.Extensions.Logging;

namespace Gateway.Proxy;

/// <summary>Every error of the data path is logged once, with route, stage and cause (README, 'What a client sees when something goes wrong').</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 100, EventName = "request_rejected", Level = LogLevel.Information,
        Message = "request rejected: stage={Stage} cause={Cause} status={Status} client={Client}")]
    public static partial void RequestRejected(ILogger logger, string stage, string cause, int status, string client);

    [LoggerMessage(EventId = 101, EventName = "no_route", Level = LogLevel.Information,
        Message = "no route: host={Host} requestId={RequestId}")]
    public static partial void NoRoute(ILogger logger, string host, string requestId);

    [LoggerMessage(EventId = 102, EventName = "upstream_error", Level = LogLevel.Warning,
        Message = "upstream error: route={Route} cluster={Cluster} stage={Stage} cause={Cause} status={Status} endpoint={Endpoint} requestId={RequestId}")]
    public static partial void UpstreamFailed(ILogger logger, string route, string cluster, string stage, string cause, int status, string endpoint, string requestId);

    [LoggerMessage(EventId = 103, EventName = "client_body_error", Level = LogLevel.Information,
        Message = "request body failed: route={Route} stage=request_body cause={Cause} requestId={RequestId}")]
    public static partial void ClientBodyFailed(ILogger logger, string route, string cause, string requestId);

    [LoggerMessage(EventId = 104, EventName = "plugin_failed", Level = LogLevel.Warning,
        Message = "plugin chain failed closed: route={Route} stage={Stage} requestId={RequestId}")]
    public static partial void PluginFailed(ILogger logger, string route, string stage, string requestId);

    [LoggerMessage(EventId = 108, EventName = "held_body_too_large", Level = LogLevel.Warning,
        Message = "a plugin held the {Direction} head while more than limits.maxBodyBytes of body arrived: route={Route} status={Status} requestId={RequestId}")]
    public static partial void HeldBodyTooLarge(ILogger logger, string direction, string route, int status, string requestId);

    [LoggerMessage(EventId = 105, EventName = "connection_failed", Level = LogLevel.Error,
        Message = "connection ended by an unexpected error: stage={Stage}")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, string stage);

    [LoggerMessage(EventId = 106, EventName = "listener_started", Level = LogLevel.Information,
        Message = "listener {Name} bound to {Endpoint}")]
    public static partial void ListenerStarted(ILogger logger, string name, string endpoint);

    [LoggerMessage(EventId = 107, EventName = "accept_failed", Level = LogLevel.Warning,
        Message = "listener {Name} accept failed: {Cause}")]
    public static partial void AcceptFailed(ILogger logger, string name, string cause);

    [LoggerMessage(EventId = 120, EventName = "client_timeout", Level = LogLevel.Information,
        Message = "client too slow: route={Route} stage={Stage} cause={Cause} status={Status} client={Client} requestId={RequestId}")]
    public static partial void ClientTimedOut(ILogger logger, string route, string stage, string cause, int status, string client, string requestId);
}
