namespace Gateway.Http;

/// <summary>Limits on what a client may send (config key <c>limits</c>). Defaults follow DESIGN §4.</summary>
public sealed record HttpLimits
{
    public int MaxRequestLineBytes { get; init; } = 8192;
    public int MaxHeaderBytes { get; init; } = 65536;
    public int MaxHeaderCount { get; init; } = 100;
    public long MaxBodyBytes { get; init; } = 10 * 1024 * 1024;
    public int HeaderTimeoutMs { get; init; } = 10_000;
    public int IdleTimeoutMs { get; init; } = 60_000;
}
