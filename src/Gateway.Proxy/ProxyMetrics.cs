using Gateway.Http.Parsing;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Metrics;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy;

/// <summary>
/// A snapshot's view of the process-wide <see cref="ProxyCounters"/>: it resolves the snapshot's route and cluster
/// indexes to their named series once, so the request path counts with an array index and an interlocked add, no
/// lookup, lock or allocation. Every snapshot's view reaches the same counters.
/// </summary>
internal sealed class ProxyMetrics
{
    private readonly ProxyCounters _counters;
    private readonly RouteSeries[] _routes;        // route index + 1; slot 0 counts requests that matched no route
    private readonly ClusterSeries[] _clusters;

    public ProxyMetrics(ProxyCounters counters, IReadOnlyList<string> routeNames, IReadOnlyList<string> clusterNames)
    {
        _counters = counters;
        _routes = new RouteSeries[routeNames.Count + 1];
        _routes[0] = counters.Unrouted;
        for (int i = 0; i < routeNames.Count; i++)
        {
            _routes[i + 1] = counters.Route(routeNames[i]);
        }
        _clusters = new ClusterSeries[clusterNames.Count];
        for (int i = 0; i < clusterNames.Count; i++)
        {
            _clusters[i] = counters.Cluster(clusterNames[i]);
        }
    }

    public ProxyCounters Counters => _counters;

    /// <summary>Counts one finished request; <paramref name="routeIndex"/> is -1 when no route matched.</summary>
    public void RequestCompleted(int routeIndex, int statusCode, long elapsedTicks) =>
        _routes[routeIndex + 1].Record(statusCode, elapsedTicks);

    public void Rejected(RequestRejection reason) => _counters.Rejected(reason);

    /// <summary>Counts a request or connection ended by a client deadline (TO-1, TO-2, TO-4).</summary>
    public void ClientTimedOut(ClientTimeout timeout) => _counters.ClientTimedOut(timeout);

    public void UpstreamFailed(int clusterIndex, UpstreamError error) => _clusters[clusterIndex].Failed(error);

    public void UpstreamOpenChanged(int clusterIndex, int delta) => _clusters[clusterIndex].OpenChanged(delta);

    public void UpstreamIdleChanged(int clusterIndex, int delta) => _clusters[clusterIndex].IdleChanged(delta);

    public void EndpointEjected(int clusterIndex) => _clusters[clusterIndex].Ejected();

    public void ConnectionOpened() => _counters.ConnectionOpened();

    public void ConnectionClosed() => _counters.ConnectionClosed();

    public long ActiveConnections => _counters.ActiveConnections;
}
