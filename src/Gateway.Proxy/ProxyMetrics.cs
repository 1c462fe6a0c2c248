using System.Globalization;
using System.Text;
using Gateway.Http.Parsing;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy;

/// <summary>
/// Counters of the data path, shared by all workers. Every series is a slot in a flat array updated
/// with <see cref="Interlocked"/>: no locks and no allocation on the request path; labels are only
/// rendered when <c>/metrics</c> is scraped.
/// </summary>
public sealed class ProxyMetrics
{
    private static readonly double[] LatencyBoundsSeconds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly RequestRejection[] Rejections = Enum.GetValues<RequestRejection>();

    private readonly string[] _routeNames;
    private readonly string[] _clusterNames;
    private readonly long[] _requestsByRouteAndClass;      // (route + 1) * 5 + class; route -1 = no route
    private readonly long[] _latencyBuckets;               // (route + 1) * (bounds + 1) + bucket
    private readonly long[] _latencySumMicros;             // route + 1
    private readonly long[] _rejections;
    private readonly long[] _upstreamOpen;
    private readonly long[] _upstreamIdle;
    private readonly long[] _upstreamErrors;               // cluster * errors + error
    private readonly long[] _ejections;
    private readonly long[] _clientTimeouts = new long[ClientTimeouts.Count];
    private long _activeConnections;
    private long _acceptedConnections;

    public ProxyMetrics(IReadOnlyList<string> routeNames, IReadOnlyList<string> clusterNames)
    {
        _routeNames = [.. routeNames];
        _clusterNames = [.. clusterNames];
        int routeSlots = routeNames.Count + 1;
        _requestsByRouteAndClass = new long[routeSlots * 5];
        _latencyBuckets = new long[routeSlots * (LatencyBoundsSeconds.Length + 1)];
        _latencySumMicros = new long[routeSlots];
        _rejections = new long[Rejections.Length];
        _upstreamOpen = new long[clusterNames.Count];
        _upstreamIdle = new long[clusterNames.Count];
        _upstreamErrors = new long[clusterNames.Count * UpstreamErrors.Count];
        _ejections = new long[clusterNames.Count];
    }

    /// <summary>Counts one finished request; <paramref name="routeIndex"/> is -1 when no route matched.</summary>
    public void RequestCompleted(int routeIndex, int statusCode, long elapsedTicks)
    {
        int slot = routeIndex + 1;
        int statusClass = Math.Clamp(statusCode / 100, 1, 5) - 1;
        Interlocked.Increment(ref _requestsByRouteAndClass[slot * 5 + statusClass]);
        double seconds = (double)elapsedTicks / TimeSpan.TicksPerSecond;
        int bucket = 0;
        while (bucket < LatencyBoundsSeconds.Length && seconds > LatencyBoundsSeconds[bucket])
        {
            bucket++;
        }
        Interlocked.Increment(ref _latencyBuckets[slot * (LatencyBoundsSeconds.Length + 1) + bucket]);
        Interlocked.Add(ref _latencySumMicros[slot], elapsedTicks / (TimeSpan.TicksPerMillisecond / 1000));
    }

    public void Rejected(RequestRejection reason) => Interlocked.Increment(ref _rejections[(int)reason]);

    /// <summary>Counts a request or connection ended by a client deadline (TO-1, TO-2, TO-4).</summary>
    public void ClientTimedOut(ClientTimeout timeout) => Interlocked.Increment(ref _clientTimeouts[(int)timeout]);

    public void UpstreamFailed(int clusterIndex, UpstreamError error) =>
        Interlocked.Increment(ref _upstreamErrors[clusterIndex * UpstreamErrors.Count + (int)error]);

    public void UpstreamOpenChanged(int clusterIndex, int delta) => Interlocked.Add(ref _upstreamOpen[clusterIndex], delta);

    public void UpstreamIdleChanged(int clusterIndex, int delta) => Interlocked.Add(ref _upstreamIdle[clusterIndex], delta);

    public void EndpointEjected(int clusterIndex) => Interlocked.Increment(ref _ejections[clusterIndex]);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _activeConnections);
        Interlocked.Increment(ref _acceptedConnections);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _activeConnections);

    public long ActiveConnections => Interlocked.Read(ref _activeConnections);

    /// <summary>Renders every series in the Prometheus text exposition format (version 0.0.4).</summary>
    public void WritePrometheus(StringBuilder o)
    {
        var inv = CultureInfo.InvariantCulture;
        o.Append("# HELP gateway_connections_active Client connections open now.\n# TYPE gateway_connections_active gauge\n");
        o.Append(inv, $"gateway_connections_active {Interlocked.Read(ref _activeConnections)}\n");
        o.Append("# HELP gateway_connections_accepted_total Client connections accepted.\n# TYPE gateway_connections_accepted_total counter\n");
        o.Append(inv, $"gateway_connections_accepted_total {Interlocked.Read(ref _acceptedConnections)}\n");

        o.Append("# HELP gateway_requests_total Requests answered, by route and status class.\n# TYPE gateway_requests_total counter\n");
        for (int slot = 0; slot < _routeNames.Length + 1; slot++)
        {
            for (int c = 0; c < 5; c++)
            {
                long n = Interlocked.Read(ref _requestsByRouteAndClass[slot * 5 + c]);
                if (n != 0)
                {
                    o.Append(inv, $"gateway_requests_total{{route=\"{RouteLabel(slot)}\",status_class=\"{c + 1}xx\"}} {n}\n");
                }
            }
        }

        o.Append("# HELP gateway_request_duration_seconds Time from request head to response end, by route.\n# TYPE gateway_request_duration_seconds histogram\n");
        int buckets = LatencyBoundsSeconds.Length + 1;
        for (int slot = 0; slot < _routeNames.Length + 1; slot++)
        {
            long cumulative = 0;
            for (int b = 0; b < buckets; b++)
            {
                cumulative += Interlocked.Read(ref _latencyBuckets[slot * buckets + b]);
                string le = b < LatencyBoundsSeconds.Length ? LatencyBoundsSeconds[b].ToString(inv) : "+Inf";
                o.Append(inv, $"gateway_request_duration_seconds_bucket{{route=\"{RouteLabel(slot)}\",le=\"{le}\"}} {cumulative}\n");
            }
            double sum = Interlocked.Read(ref _latencySumMicros[slot]) / 1e6;
            o.Append(inv, $"gateway_request_duration_seconds_sum{{route=\"{RouteLabel(slot)}\"}} {sum}\n");
            o.Append(inv, $"gateway_request_duration_seconds_count{{route=\"{RouteLabel(slot)}\"}} {cumulative}\n");
        }

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

        o.Append("# HELP gateway_upstream_connections Upstream connections by state (open includes idle).\n# TYPE gateway_upstream_connections gauge\n");
        for (int c = 0; c < _clusterNames.Length; c++)
        {
            o.Append(inv, $"gateway_upstream_connections{{cluster=\"{_clusterNames[c]}\",state=\"open\"}} {Interlocked.Read(ref _upstreamOpen[c])}\n");
            o.Append(inv, $"gateway_upstream_connections{{cluster=\"{_clusterNames[c]}\",state=\"idle\"}} {Interlocked.Read(ref _upstreamIdle[c])}\n");
        }

        o.Append("# HELP gateway_upstream_errors_total Failed upstream exchanges, by cause.\n# TYPE gateway_upstream_errors_total counter\n");
        for (int c = 0; c < _clusterNames.Length; c++)
        {
            for (int e = 1; e < UpstreamErrors.Count; e++)
            {
                long n = Interlocked.Read(ref _upstreamErrors[c * UpstreamErrors.Count + e]);
                o.Append(inv, $"gateway_upstream_errors_total{{cluster=\"{_clusterNames[c]}\",cause=\"{UpstreamErrors.Label((UpstreamError)e)}\"}} {n}\n");
            }
        }

        o.Append("# HELP gateway_upstream_ejections_total Endpoints ejected after consecutive failures.\n# TYPE gateway_upstream_ejections_total counter\n");
        for (int c = 0; c < _clusterNames.Length; c++)
        {
            o.Append(inv, $"gateway_upstream_ejections_total{{cluster=\"{_clusterNames[c]}\"}} {Interlocked.Read(ref _ejections[c])}\n");
        }
    }

    private string RouteLabel(int slot) => slot == 0 ? "" : _routeNames[slot - 1];
}

// Client deadline events (TO-2, TO-4); to move into ProxyLog.cs with the other data-path events.
