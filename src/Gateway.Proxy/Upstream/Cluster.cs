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
    /// than failing every request until a cool-down ends.
    /// </summary>
    internal UpstreamEndpoint Pick(ref int roundRobinCursor, UpstreamEndpoint? exclude) => PickWith<OwnedCursor>(ref roundRobinCursor, exclude);

    /// <summary>
    /// As <see cref="Pick"/>, with a cursor several threads advance at once: the plugins' callouts to a cluster, sent
    /// from every worker. Each turn is taken by one atomic increment, so no two picks take the same turn and the endpoints
    /// share the calls evenly; a worker's own cursor keeps its plain increment.
    /// </summary>
    internal UpstreamEndpoint PickShared(ref int roundRobinCursor, UpstreamEndpoint? exclude) => PickWith<SharedCursor>(ref roundRobinCursor, exclude);

    /// <summary>The pick, made once per kind of cursor (struct type arguments): neither pays for the other's increment.</summary>
    private UpstreamEndpoint PickWith<TCursor>(ref int roundRobinCursor, UpstreamEndpoint? exclude)
        where TCursor : struct, IRoundRobinCursor
    {
        long now = Environment.TickCount64 * TimeSpan.TicksPerMillisecond;
        UpstreamEndpoint? chosen = Options.LoadBalancing == LoadBalancing.LeastRequest
            ? PickLeastRequest(now, exclude)
            : PickRoundRobin<TCursor>(ref roundRobinCursor, now, exclude);
        return chosen ?? _endpoints[TCursor.Next(ref roundRobinCursor) % (uint)_endpoints.Length];
    }

    private UpstreamEndpoint? PickRoundRobin<TCursor>(ref int cursor, long now, UpstreamEndpoint? exclude)
        where TCursor : struct, IRoundRobinCursor
    {
        for (int attempt = 0; attempt < _endpoints.Length; attempt++)
        {
            UpstreamEndpoint e = _endpoints[TCursor.Next(ref cursor) % (uint)_endpoints.Length];
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

    /// <summary>How a round-robin cursor takes its next turn.</summary>
    private interface IRoundRobinCursor
    {
        /// <summary>
        /// The turn <paramref name="cursor"/> was at, advancing it. Counted unsigned: a cursor that has wrapped past
        /// <see cref="int.MaxValue"/> to negative goes on in order, and the modulo of an endpoint count stays in range.
        /// </summary>
        static abstract uint Next(ref int cursor);
    }

    /// <summary>A cursor one thread owns.</summary>
    private readonly struct OwnedCursor : IRoundRobinCursor
    {
        public static uint Next(ref int cursor) => (uint)cursor++;
    }

    /// <summary>A cursor threads share: the increment returns the turn after the one taken.</summary>
    private readonly struct SharedCursor : IRoundRobinCursor
    {
        public static uint Next(ref int cursor) => (uint)Interlocked.Increment(ref cursor) - 1u;
    }
}
