using Gateway.Proxy.Routing;
using Gateway.Proxy.Upstream;

namespace Gateway.Configuration;

/// <summary>Config <c>clusters.&lt;name&gt;</c>; defaults are <see cref="ClusterOptions"/>'s.</summary>
public sealed record ClusterConfig
{
    /// <summary><c>host:port</c> items; see <see cref="HostPort"/>.</summary>
    public required IReadOnlyList<string> Endpoints { get; init; }
    public LoadBalancing LoadBalancing { get; init; }
    public int ConnectTimeoutMs { get; init; } = ClusterOptions.DefaultConnectTimeoutMs;
    public int RequestTimeoutMs { get; init; } = ClusterOptions.DefaultRequestTimeoutMs;
    public int MaxConnectionsPerWorker { get; init; } = ClusterOptions.DefaultMaxConnectionsPerWorker;
    public EjectionConfig Ejection { get; init; } = new();
    /// <summary>A pooled upstream connection idle longer than this is closed instead of reused.</summary>
    public int PooledIdleTimeoutMs { get; init; } = ClusterOptions.DefaultPooledIdleTimeoutMs;
    public ClusterTlsConfig? Tls { get; init; }

    public bool Equals(ClusterConfig? other) =>
        other is not null
        && ConfigEquality.Lists(Endpoints, other.Endpoints)
        && LoadBalancing == other.LoadBalancing
        && ConnectTimeoutMs == other.ConnectTimeoutMs
        && RequestTimeoutMs == other.RequestTimeoutMs
        && MaxConnectionsPerWorker == other.MaxConnectionsPerWorker
        && Ejection == other.Ejection
        && PooledIdleTimeoutMs == other.PooledIdleTimeoutMs
        && Tls == other.Tls;

    public override int GetHashCode() =>
        HashCode.Combine(ConfigEquality.ListHash(Endpoints), LoadBalancing, ConnectTimeoutMs, RequestTimeoutMs, MaxConnectionsPerWorker, Ejection);
}

/// <summary>Passive health: an endpoint is taken out after consecutive failures, then retried after a cool-down.</summary>
public sealed record EjectionConfig
{
    public int ConsecutiveFailures { get; init; } = ClusterOptions.DefaultEjectionConsecutiveFailures;
    public int CooldownMs { get; init; } = ClusterOptions.DefaultEjectionCooldownMs;
}

/// <summary>One entry of config <c>routes</c>; defaults are <see cref="RouteOptions"/>'s.</summary>
public sealed record RouteConfig
{
    /// <summary>Unique; metrics and logs label requests with it.</summary>
    public required string Name { get; init; }
    public RouteMatch Match { get; init; } = new();
    public required string Cluster { get; init; }
    /// <summary>Plugin names, in the order they run.</summary>
    public IReadOnlyList<string> Plugins { get; init; } = [];
    /// <summary>Upgrade protocols relayed as tunnels on this route; other Upgrade requests go on as plain HTTP.</summary>
    public IReadOnlyList<string> Upgrades { get; init; } = RouteOptions.DefaultUpgrades;

    public bool Equals(RouteConfig? other) =>
        other is not null
        && Name == other.Name
        && Match == other.Match
        && Cluster == other.Cluster
        && ConfigEquality.Lists(Plugins, other.Plugins)
        && ConfigEquality.Lists(Upgrades, other.Upgrades);

    public override int GetHashCode() => HashCode.Combine(Name, Match, Cluster, ConfigEquality.ListHash(Plugins));
}

public sealed record RouteMatch
{
    /// <summary><c>*</c>, an exact host, or a <c>*.example.com</c> wildcard.</summary>
    public string Host { get; init; } = RouteOptions.AnyHost;
    /// <summary>At most one of <see cref="PathPrefix"/> and <see cref="Path"/>; with neither, every path matches.</summary>
    public string? PathPrefix { get; init; }
    /// <summary>Exact path match.</summary>
    public string? Path { get; init; }
    /// <summary>False: <see cref="Path"/> and <see cref="PathPrefix"/> match regardless of ASCII case.</summary>
    public bool CaseSensitive { get; init; } = RouteOptions.DefaultCaseSensitive;
}
