namespace Gateway.Http;

/// <summary>Limits on what a client may send (config key <c>limits</c>). Defaults follow README, 'Configuration reference'.</summary>
public sealed record HttpLimits
{
    public int MaxRequestLineBytes { get; init; } = 8192;
    public int MaxHeaderBytes { get; init; } = 65536;
    public int MaxHeaderCount { get; init; } = 100;
    public long MaxBodyBytes { get; init; } = 10 * 1024 * 1024;
    public int HeaderTimeoutMs { get; init; } = 10_000;
    public int IdleTimeoutMs { get; init; } = 60_000;

    /// <summary>TO-2: the whole request body must arrive within this, counted from the end of its head.</summary>
    public int RequestBodyTimeoutMs { get; init; } = 60_000;

    /// <summary>TO-2: the least a request body may deliver, averaged over <see cref="RequestBodyRateWindowMs"/>.</summary>
    public int MinRequestBodyBytesPerSecond { get; init; } = 1024;

    /// <summary>TO-2: the sliding window of the rate check; the first window of a body is its grace period.</summary>
    public int RequestBodyRateWindowMs { get; init; } = 5_000;

    /// <summary>TO-4: how long one write to the client may stay blocked because the client does not read.</summary>
    public int ResponseWriteTimeoutMs { get; init; } = 30_000;

    /// <summary>UP-5: an upgraded connection (WebSocket) with no bytes either way for this long is closed.</summary>
    public int TunnelIdleTimeoutMs { get; init; } = 300_000;
}
