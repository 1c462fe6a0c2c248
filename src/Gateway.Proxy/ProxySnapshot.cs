using Gateway.Http;
using Gateway.Http.Paths;
using Gateway.Proxy.Metrics;
using Gateway.Proxy.Routing;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy;

/// <summary>
/// Everything the data path reads from configuration, built once and swapped whole on reload; a request
/// keeps the snapshot it started with until it ends.
/// </summary>
public sealed class ProxySnapshot
{
    public ProxySnapshot(
        HttpLimits limits, IReadOnlyList<ClusterOptions> clusters, IReadOnlyList<RouteOptions> routes, LoadedPlugins? plugins, ProxyCounters counters,
        PathNormalization? paths = null)
    {
        Limits = limits;
        Paths = paths ?? new PathNormalization();
        var byName = new Dictionary<string, Cluster>(StringComparer.Ordinal);
        var list = new Cluster[clusters.Count];
        for (int i = 0; i < clusters.Count; i++)
        {
            list[i] = new Cluster(i, clusters[i]);
            byName[clusters[i].Name] = list[i];
        }
        Clusters = list;
        ClustersByName = byName;
        Routes = new RouteTable(routes, byName);
        Plugins = plugins;
        var routeNames = new string[routes.Count];
        for (int i = 0; i < routeNames.Length; i++)
        {
            routeNames[i] = routes[i].Name;
        }
        var clusterNames = new string[list.Length];
        for (int i = 0; i < clusterNames.Length; i++)
        {
            clusterNames[i] = list[i].Name;
        }
        Metrics = new ProxyMetrics(counters, routeNames, clusterNames);
    }

    public HttpLimits Limits { get; }

    /// <summary>Config <c>accessLog.enabled</c>: whether requests on this snapshot get an access log line.</summary>
    public bool AccessLogEnabled { get; init; } = true;

    /// <summary>How request paths are normalized before routing.</summary>
    public PathNormalization Paths { get; }

    public IReadOnlyList<Cluster> Clusters { get; }

    public IReadOnlyDictionary<string, Cluster> ClustersByName { get; }

    internal RouteTable Routes { get; }

    public LoadedPlugins? Plugins { get; }

    /// <summary>This snapshot's routes and clusters resolved to the process-wide counters (they outlive it).</summary>
    internal ProxyMetrics Metrics { get; }
}
