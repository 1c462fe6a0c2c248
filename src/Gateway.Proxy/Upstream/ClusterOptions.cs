using System.Net;

namespace Gateway.Proxy.Upstream;

public enum LoadBalancing
{
    RoundRobin,
    LeastRequest,
}

/// <summary>One entry of config <c>clusters</c>.</summary>
public sealed record ClusterOptions
{
    public required string Name { get; init; }

    public required IReadOnlyList<DnsEndPoint> Endpoints { get; init; }

    public LoadBalancing LoadBalancing { get; init; } = LoadBalancing.RoundRobin;

    public int ConnectTimeoutMs { get; init; } = 1000;

    /// <summary>From the last request byte sent to the response head received (→ 504).</summary>
    public int RequestTimeoutMs { get; init; } = 15_000;

    public int MaxConnectionsPerWorker { get; init; } = 256;

    /// <summary>Consecutive connect failures or resets after which an endpoint is ejected.</summary>
    public int EjectionConsecutiveFailures { get; init; } = 5;

    public int EjectionCooldownMs { get; init; } = 10_000;

    /// <summary>Pooled connections idle longer than this are closed rather than reused (TO-5).</summary>
    public int PooledIdleTimeoutMs { get; init; } = 30_000;

    /// <summary>Set when connections to the endpoints use TLS; built with the snapshot (its files are read then).</summary>
    public Tls.UpstreamTls? Tls { get; init; }
}
