using System.Globalization;
using System.Text;
using Gateway.Http.Parsing;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Metrics;

/// <summary>
/// The data path's counters for the life of the process: a reload replaces the snapshot, never these, so counters
/// only grow and a connection opened under one snapshot is counted down on the same gauge when it closes under
/// another. Route and cluster series are looked up by name once per snapshot, never per request.
/// </summary>
public sealed class ProxyCounters
{
    private static readonly RequestRejection[] Rejections = Enum.GetValues<RequestRejection>();

    private readonly long[] _rejections = new long[Rejections.Length];
    private readonly long[] _clientTimeouts = new long[ClientTimeouts.Count];
    private readonly List<RouteSeries> _routes = [new RouteSeries("")];
    private readonly List<ClusterSeries> _clusters = [];
    private long _activeConnections;
    private long _acceptedConnections;

    /// <summary>The series of requests that matched no route.</summary>
    internal RouteSeries Unrouted => _routes[0];

    public long ActiveConnections => Interlocked.Read(ref _activeConnections);

    /// <summary>The series of route <paramref name="name"/>, created on first use (at snapshot build, not per request).</summary>
    internal RouteSeries Route(string name)
    {
        lock (_routes)
        {
            for (int i = 1; i < _routes.Count; i++)
            {
                if (_routes[i].Name == name)
                {
                    return _routes[i];
                }
            }
            var series = new RouteSeries(name);
            _routes.Add(series);
            return series;
        }
    }

    /// <summary>The series of cluster <paramref name="name"/>, created on first use.</summary>
    internal ClusterSeries Cluster(string name)
    {
        lock (_clusters)
        {
            foreach (ClusterSeries existing in _clusters)
            {
                if (existing.Name == name)
                {
                    return existing;
                }
            }
            var series = new ClusterSeries(name);
            _clusters.Add(series);
            return series;
        }
    }

    public void Rejected(RequestRejection reason) => Interlocked.Increment(ref _rejections[(int)reason]);

    internal void ClientTimedOut(ClientTimeout timeout) => Interlocked.Increment(ref _clientTimeouts[(int)timeout]);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _activeConnections);
        Interlocked.Increment(ref _acceptedConnections);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _activeConnections);

    /// <summary>Renders every series in the Prometheus text exposition format (version 0.0.4).</summary>
    public void WritePrometheus(StringBuilder o)
    {
        var inv = CultureInfo.InvariantCulture;
        o.Append("# HELP gateway_connections_active Client connections open now.\n# TYPE gateway_connections_active gauge\n");
        o.Append(inv, $"gateway_connections_active {Interlocked.Read(ref _activeConnections)}\n");
        o.Append("# HELP gateway_connections_accepted_total Client connections accepted.\n# TYPE gateway_connections_accepted_total counter\n");
        o.Append(inv, $"gateway_connections_accepted_total {Interlocked.Read(ref _acceptedConnections)}\n");

        RouteSeries[] routes;
        lock (_routes)
        {
            routes = [.. _routes];
        }
        WriteRoutes(o, routes);

        o.Append("# HELP gateway_request_rejections_total Requests refused by the HTTP parser, by reason.\n# TYPE gateway_request_rejections_total counter\n");
        for (int i = 0; i < Rejections.Length; i++)
        {
            long n = Interlocked.Read(ref _rejections[i]);
            if (n != 0)
            {
                o.Append(inv, $"gateway_request_rejections_total{{reason=\"{Rejections[i]}\"}} {n}\n");
            }
        }

        o.Append("# HELP gateway_client_timeouts_total Requests ended because the client was too slow, by deadline.\n# TYPE gateway_client_timeouts_total counter\n");
        for (int t = 1; t < ClientTimeouts.Count; t++)
        {
            o.Append(inv, $"gateway_client_timeouts_total{{timeout=\"{ClientTimeouts.Label((ClientTimeout)t)}\"}} {Interlocked.Read(ref _clientTimeouts[t])}\n");
        }

        ClusterSeries[] clusters;
        lock (_clusters)
        {
            clusters = [.. _clusters];
        }
        WriteClusters(o, clusters);
    }

    private static void WriteRoutes(StringBuilder o, RouteSeries[] routes)
    {
        var inv = CultureInfo.InvariantCulture;
        o.Append("# HELP gateway_requests_total Requests answered, by route and status class.\n# TYPE gateway_requests_total counter\n");
        foreach (RouteSeries route in routes)
        {
            for (int c = 1; c <= 5; c++)
            {
                long n = route.Requests(c);
                if (n != 0)
                {
                    o.Append(inv, $"gateway_requests_total{{route=\"{route.Name}\",status_class=\"{c}xx\"}} {n}\n");
                }
            }
        }

        o.Append("# HELP gateway_request_duration_seconds Time from request head to response end, by route.\n# TYPE gateway_request_duration_seconds histogram\n");
        double[] bounds = RouteSeries.LatencyBoundsSeconds;
        foreach (RouteSeries route in routes)
        {
            long cumulative = 0;
            for (int b = 0; b <= bounds.Length; b++)
            {
                cumulative += route.LatencyBucket(b);
                string le = b < bounds.Length ? bounds[b].ToString(inv) : "+Inf";
                o.Append(inv, $"gateway_request_duration_seconds_bucket{{route=\"{route.Name}\",le=\"{le}\"}} {cumulative}\n");
            }
            o.Append(inv, $"gateway_request_duration_seconds_sum{{route=\"{route.Name}\"}} {route.LatencySumSeconds}\n");
            o.Append(inv, $"gateway_request_duration_seconds_count{{route=\"{route.Name}\"}} {cumulative}\n");
        }
    }

    private static void WriteClusters(StringBuilder o, ClusterSeries[] clusters)
    {
        var inv = CultureInfo.InvariantCulture;
        o.Append("# HELP gateway_upstream_connections Upstream connections by state (open includes idle).\n# TYPE gateway_upstream_connections gauge\n");
        foreach (ClusterSeries c in clusters)
        {
            o.Append(inv, $"gateway_upstream_connections{{cluster=\"{c.Name}\",state=\"open\"}} {c.Open}\n");
            o.Append(inv, $"gateway_upstream_connections{{cluster=\"{c.Name}\",state=\"idle\"}} {c.Idle}\n");
        }

        o.Append("# HELP gateway_upstream_errors_total Failed upstream exchanges, by cause.\n# TYPE gateway_upstream_errors_total counter\n");
        foreach (ClusterSeries c in clusters)
        {
            for (int e = 1; e < UpstreamErrors.Count; e++)
            {
                o.Append(inv, $"gateway_upstream_errors_total{{cluster=\"{c.Name}\",cause=\"{UpstreamErrors.Label((UpstreamError)e)}\"}} {c.Errors((UpstreamError)e)}\n");
            }
        }

        o.Append("# HELP gateway_upstream_ejections_total Endpoints ejected after consecutive failures.\n# TYPE gateway_upstream_ejections_total counter\n");
        foreach (ClusterSeries c in clusters)
        {
            o.Append(inv, $"gateway_upstream_ejections_total{{cluster=\"{c.Name}\"}} {c.Ejections}\n");
        }
    }
}
