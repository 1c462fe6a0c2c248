using System.Text.Json.Serialization;
using Gateway.Http;
using Gateway.Http.Paths;
using Gateway.Proxy.Server;

namespace Gateway.Configuration;

/// <summary>
/// One immutable configuration snapshot (README, 'Configuration reference'). Built only by <see cref="ConfigLoader"/>, which
/// validates it whole before anyone sees it; a reload swaps the snapshot, never edits it.
/// </summary>
public sealed record GatewayConfig
{
    /// <summary>Number of workers; 0 means one per processor.</summary>
    public int Workers { get; init; }
    public IReadOnlyList<ListenerConfig> Listeners { get; init; } = [];
    public AdminConfig Admin { get; init; } = new();
    /// <summary>What a client may send; the HTTP layer's own options record, bound as is.</summary>
    public HttpLimits Limits { get; init; } = new();
    /// <summary>How request paths are normalized before routing; the HTTP layer's own options record, bound as is.</summary>
    public PathNormalization Paths { get; init; } = new();
    public AccessLogConfig AccessLog { get; init; } = new();
    public IReadOnlyDictionary<string, ClusterConfig> Clusters { get; init; } = new Dictionary<string, ClusterConfig>();
    /// <summary>In match order: the first route that matches a request wins.</summary>
    public IReadOnlyList<RouteConfig> Routes { get; init; } = [];
    public IReadOnlyDictionary<string, PluginConfig> Plugins { get; init; } = new Dictionary<string, PluginConfig>();
    public IReadOnlyDictionary<string, RedisConfig> Redis { get; init; } = new Dictionary<string, RedisConfig>();
    public IReadOnlyDictionary<string, DatabaseConfig> Databases { get; init; } = new Dictionary<string, DatabaseConfig>();
    public ShutdownConfig Shutdown { get; init; } = new();
    public ModuleCacheConfig ModuleCache { get; init; } = new();

    /// <summary>
    /// Key path → redacted text of every string that held a <c>${env:}</c> or <c>${file:}</c> reference,
    /// so <see cref="ConfigRedaction"/> can hide resolved secrets it could not otherwise recognise.
    /// </summary>
    [JsonIgnore]
    internal IReadOnlyDictionary<string, string> ResolvedReferences { get; init; } = new Dictionary<string, string>();

    /// <summary>Equal when every key has the same value; <see cref="ResolvedReferences"/>, derived data, is left out.</summary>
    public bool Equals(GatewayConfig? other) =>
        other is not null
        && Workers == other.Workers
        && ConfigEquality.Lists(Listeners, other.Listeners)
        && Admin == other.Admin
        && Limits == other.Limits
        && Paths == other.Paths
        && AccessLog == other.AccessLog
        && ConfigEquality.Maps(Clusters, other.Clusters)
        && ConfigEquality.Lists(Routes, other.Routes)
        && ConfigEquality.Maps(Plugins, other.Plugins)
        && ConfigEquality.Maps(Redis, other.Redis)
        && ConfigEquality.Maps(Databases, other.Databases)
        && Shutdown == other.Shutdown
        && ModuleCache == other.ModuleCache;

    public override int GetHashCode() =>
        HashCode.Combine(Workers, ConfigEquality.ListHash(Listeners), ConfigEquality.MapHash(Clusters), ConfigEquality.ListHash(Routes), ConfigEquality.MapHash(Plugins));
}

public sealed record ListenerConfig
{
    /// <summary>Unique; metrics and logs name the listener by it.</summary>
    public required string Name { get; init; }
    public string Address { get; init; } = ListenerOptions.DefaultAddress;
    /// <summary>0 binds an ephemeral port (tests).</summary>
    public required int Port { get; init; }
    /// <summary>Client connections open at once; above it a new connection is closed at accept.</summary>
    public int MaxConnections { get; init; } = ListenerOptions.DefaultMaxConnections;
    /// <summary>Set to terminate TLS on this listener.</summary>
    public ListenerTlsConfig? Tls { get; init; }
}

public sealed record AdminConfig
{
    public string Address { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 9901;
    /// <summary>Admin connections open at once (probes and scrapes); above it a new one is closed at accept.</summary>
    public int MaxConnections { get; init; } = 64;
}

/// <summary>Config key <c>shutdown</c>: how SIGTERM drains.</summary>
public sealed record ShutdownConfig
{
    /// <summary>In-flight requests get this long to finish before the process exits.</summary>
    public int DrainTimeoutMs { get; init; } = 15_000;
    /// <summary>Listeners stay open this long after /readyz turns 503, so load balancers stop sending first.</summary>
    public int ListenerCloseDelayMs { get; init; }
}

/// <summary>
/// Config key <c>moduleCache</c>: where compiled plugin code is kept across starts, so a restart deserializes
/// instead of compiling. On a read-only root file system point it at a writable volume (an emptyDir).
/// </summary>
public sealed record ModuleCacheConfig
{
    public bool Enabled { get; init; } = true;

    /// <summary>Absolute path; empty means <c>gateway-module-cache</c> in the system's temporary directory.</summary>
    public string Directory { get; init; } = "";

    /// <summary>The directory in use, or null when caching is off.</summary>
    [JsonIgnore]
    public string? EffectiveDirectory =>
        !Enabled ? null : Directory.Length > 0 ? Directory : System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gateway-module-cache");
}
