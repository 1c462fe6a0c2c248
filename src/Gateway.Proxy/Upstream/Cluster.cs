namespace Gateway.Proxy.Upstream;

/// <summary>
/// A named set of upstream endpoints with its balancing policy and passive health (ejection).
/// Shared by all workers; each worker keeps its own <see cref="UpstreamPool"/> of connections to it.
/// </summary>
public sealed class Cluster
{
    private readonly UpstreamEndpoint[] _endpoints;

    public Cluster(int index, ClusterOptions options)
    {
        Index = index;
        Options = options;
        _endpoints = new UpstreamEndpoint[options.Endpoints.Count];
        for (int i = 0; i < _endpoints.Length; i++)
        {
            _endpoints[i] = new UpstreamEndpoint(i, options.Endpoints[i]);
        }
    }

    public int Index { get; }

    public string Name => Options.Name;

    public ClusterOptions Options { get; }

    internal IReadOnlyList<UpstreamEndpoint> Endpoints => _endpoints;

    /// <summary>
    /// Picks an endpoint, skipping ejected ones and <paramref name="exclude"/> (the one a retry moves away from), with a
    /// round-robin cursor only the calling thread advances: a worker's own, in its <see cref="UpstreamPool"/>.
    /// When every endpoint is ejected the gateway still tries them (as Envoy's panic threshold does) rather
    /// than failing every request until a cool-down ends. The cursor is counted unsigned: one that has wrapped past
    /// <see cref="int.MaxValue"/> to negative goes on in order.
    /// </summary>
    internal UpstreamEndpoint Pick(ref int roundRobinCursor, UpstreamEndpoint? exclude)
    {
        long now = Environment.TickCount64 * TimeSpan.TicksPerMillisecond;
        UpstreamEndpoint? chosen = Options.LoadBalancing == LoadBalancing.LeastRequest
            ? PickLeastRequest(now, exclude)
            : PickRoundRobin(ref roundRobinCursor, now, exclude);
        return chosen ?? _endpoints[(uint)roundRobinCursor++ % (uint)_endpoints.Length];
    }

    /// <summary>
    /// As <see cref="Pick"/>, with a cursor several threads advance at once: the plugins' callouts to a cluster, sent
    /// from every worker. One atomic increment takes this pick's turn, so no two picks take the same one and the
    /// endpoints share the calls evenly; skipping ejected endpoints walks on from that turn alone.
    /// </summary>
    internal UpstreamEndpoint PickShared(ref int roundRobinCursor, UpstreamEndpoint? exclude)
    {
        int turn = Interlocked.Increment(ref roundRobinCursor) - 1;
        return Pick(ref turn, exclude);
    }

    private UpstreamEndpoint? PickRoundRobin(ref int cursor, long now, UpstreamEndpoint? exclude)
    {
        for (int attempt = 0; attempt < _endpoints.Length; attempt++)
        {
            UpstreamEndpoint e = _endpoints[(uint)cursor++ % (uint)_endpoints.Length];
            if (e != exclude && !e.IsEjected(now))
            {
                return e;
            }
        }
        return null;
    }

    private UpstreamEndpoint? PickLeastRequest(long now, UpstreamEndpoint? exclude)
    {
        UpstreamEndpoint? best = null;
        foreach (UpstreamEndpoint e in _endpoints)
        {
            if (e != exclude && !e.IsEjected(now) && (best is null || e.ActiveRequests < best.ActiveRequests))
            {
                best = e;
            }
        }
        return best;
    }
}
