using System.Net;
using System.Text.Json.Serialization;

namespace Gateway.Proxy.Upstream;

/// <summary>How a cluster picks an endpoint (config <c>clusters.&lt;c&gt;.loadBalancing</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LoadBalancing>))]
public enum LoadBalancing
{
    [JsonStringEnumMemberName("roundRobin")] RoundRobin,
    [JsonStringEnumMemberName("leastRequest")] LeastRequest,
}

/// <summary>One entry of config <c>clusters</c>; owns the defaults the config record uses.</summary>
public sealed record ClusterOptions
{
    public const int DefaultConnectTimeoutMs = 1000;
    public const int DefaultRequestTimeoutMs = 15_000;
    public const int DefaultMaxConnectionsPerWorker = 256;
    public const int DefaultEjectionConsecutiveFailures = 5;
    public const int DefaultEjectionCooldownMs = 10_000;
    public const int DefaultPooledIdleTimeoutMs = 30_000;

    public required string Name { get; init; }

    public required IReadOnlyList<DnsEndPoint> Endpoints { get; init; }

    /// <summary>Round robin unless set (the enum's zero value).</summary>
    public LoadBalancing LoadBalancing { get; init; }

    public int ConnectTimeoutMs { get; init; } = DefaultConnectTimeoutMs;

    /// <summary>From the last request byte sent to the response head received (→ 504).</summary>
    public int RequestTimeoutMs { get; init; } = DefaultRequestTimeoutMs;

    public int MaxConnectionsPerWorker { get; init; } = DefaultMaxConnectionsPerWorker;

    /// <summary>Consecutive connect failures or resets after which an endpoint is ejected.</summary>
    public int EjectionConsecutiveFailures { get; init; } = DefaultEjectionConsecutiveFailures;

    public int EjectionCooldownMs { get; init; } = DefaultEjectionCooldownMs;

    /// <summary>Pooled connections idle longer than this are closed rather than reused (TO-5).</summary>
    public int PooledIdleTimeoutMs { get; init; } = DefaultPooledIdleTimeoutMs;

    /// <summary>Set when connections to the endpoints use TLS; built with the snapshot (its files are read then).</summary>
    public Tls.UpstreamTls? Tls { get; init; }

    /// <summary>
    /// Equal when a reload left the cluster as it was, so what is kept for it (the callouts' connections) may be kept:
    /// the endpoints compared by value and in order, TLS by what its files held when read (a rotated certificate at
    /// the same path is a change), every other option as it is.
    /// </summary>
    public bool Equals(ClusterOptions? other) =>
        other is not null
        && Name == other.Name
        && Endpoints.SequenceEqual(other.Endpoints)
        && LoadBalancing == other.LoadBalancing
        && ConnectTimeoutMs == other.ConnectTimeoutMs
        && RequestTimeoutMs == other.RequestTimeoutMs
        && MaxConnectionsPerWorker == other.MaxConnectionsPerWorker
        && EjectionConsecutiveFailures == other.EjectionConsecutiveFailures
        && EjectionCooldownMs == other.EjectionCooldownMs
        && PooledIdleTimeoutMs == other.PooledIdleTimeoutMs
        && (Tls is null ? other.Tls is null : other.Tls is not null && Tls.HandshakesAs(other.Tls));

    /// <summary>Over the name and endpoints, which tell clusters apart; equal options hash alike.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name);
        foreach (DnsEndPoint endpoint in Endpoints)
        {
            hash.Add(endpoint);
        }
        return hash.ToHashCode();
    }
}
