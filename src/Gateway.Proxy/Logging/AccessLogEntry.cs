using System.Net;

namespace Gateway.Proxy.Logging;

/// <summary>
/// One finished request as the access log writes it. Only references and numbers: every field is a string the
/// exchange already holds, so taking an entry allocates nothing; formatting happens on the writer's thread.
/// </summary>
internal readonly record struct AccessLogEntry(
    DateTime Time,
    string Listener,
    string? Route,
    string Method,
    string Path,
    int Status,
    long RequestBytes,
    long ResponseBytes,
    long DurationMicros,
    string? Upstream,
    string Plugins,
    string RequestId,
    IPEndPoint? Client);
