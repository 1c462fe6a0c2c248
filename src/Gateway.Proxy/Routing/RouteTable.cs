using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Routing;

/// <summary>Routes in config order; the first match wins (README, 'Configuration reference'), none means 404.</summary>
internal sealed class RouteTable
{
    private readonly Route[] _routes;

    public RouteTable(IReadOnlyList<RouteOptions> routes, IReadOnlyDictionary<string, Cluster> clusters)
    {
        _routes = new Route[routes.Count];
        for (int i = 0; i < routes.Count; i++)
        {
            _routes[i] = new Route(i, routes[i], clusters[routes[i].Cluster]);
        }
    }

    public IReadOnlyList<Route> Routes => _routes;

    /// <summary>Finds the route for an authority such as <c>api.example.com:8080</c> and a path.</summary>
    public Route? Match(string authority, ReadOnlySpan<char> path)
    {
        ReadOnlySpan<char> host = HostWithoutPort(authority);
        foreach (Route route in _routes)
        {
            if (route.Matches(host, path))
            {
                return route;
            }
        }
        return null;
    }

    private static ReadOnlySpan<char> HostWithoutPort(string authority)
    {
        ReadOnlySpan<char> a = authority;
        if (a.StartsWith('['))
        {
            int close = a.IndexOf(']');
            return close < 0 ? a : a[..(close + 1)];
        }
        int colon = a.LastIndexOf(':');
        return colon < 0 ? a : a[..colon];
    }
}
