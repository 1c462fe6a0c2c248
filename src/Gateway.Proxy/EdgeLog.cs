using Microsoft.Extensions.Logging;

namespace Gateway.Proxy;

/// <summary>Log lines of the listeners, TLS, tunnels and the access log (event ids 160-179).</summary>
internal static partial class EdgeLog
{
    [LoggerMessage(EventId = 160, EventName = "listener_at_capacity", Level = LogLevel.Warning,
        Message = "listener {Name} is at maxConnections ({MaxConnections}): new connections are closed at accept until one ends")]
    public static partial void ListenerAtCapacity(ILogger logger, string name, int maxConnections);

    [LoggerMessage(EventId = 161, EventName = "access_log_write_failed", Level = LogLevel.Error,
        Message = "access log lines cannot be written ({Reason}); they are lost until writing works again")]
    public static partial void AccessLogWriteFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 162, EventName = "tunnel_idle_timeout", Level = LogLevel.Information,
        Message = "tunnel closed after limits.tunnelIdleTimeoutMs without traffic: route={Route} upstream={Upstream} requestId={RequestId}")]
    public static partial void TunnelIdleTimeout(ILogger logger, string route, string upstream, string requestId);

    [LoggerMessage(EventId = 163, EventName = "tls_handshake_failed", Level = LogLevel.Information,
        Message = "TLS handshake failed on listener {Listener} from {Client}: {Reason}")]
    public static partial void TlsHandshakeFailed(ILogger logger, string listener, string client, string reason);

    [LoggerMessage(EventId = 164, EventName = "tls_certificates_reloaded", Level = LogLevel.Warning,
        Message = "listener {Listener}: certificate files changed; new handshakes use the new certificates")]
    public static partial void CertificatesReloaded(ILogger logger, string listener);

    [LoggerMessage(EventId = 165, EventName = "tls_certificates_refused", Level = LogLevel.Error,
        Message = "listener {Listener}: changed certificate files do not load ({Reason}); the previous certificates keep serving")]
    public static partial void CertificatesRefused(ILogger logger, string listener, string reason);

    [LoggerMessage(EventId = 166, EventName = "upstream_tls_failed", Level = LogLevel.Warning,
        Message = "TLS to cluster {Cluster} endpoint {Endpoint} failed: {Reason}")]
    public static partial void UpstreamTlsFailed(ILogger logger, string cluster, string endpoint, string reason);
}
