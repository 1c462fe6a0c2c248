using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Routing;

/// <summary>A route resolved against its cluster, with a dense index for per-route metrics.</summary>
public sealed class Route
{
    private readonly string? _hostSuffix;

    internal Route(int index, RouteOptions options, Cluster cluster)
    {
        Index = index;
        Options = options;
        Cluster = cluster;
        Plugins = options.Plugins;
        if (options.Host.StartsWith("*.", StringComparison.Ordinal))
        {
            _hostSuffix = options.Host[1..].ToLowerInvariant();
        }
    }

    public int Index { get; }

    public string Name => Options.Name;

    public RouteOptions Options { get; }

    public Cluster Cluster { get; }

    public IReadOnlyList<string> Plugins { get; }

    /// <summary>
    /// Matches the validated, lower-cased authority (port stripped) and the normalized path exactly as it will
    /// be forwarded (RL-7: one representation for every decision).
    /// </summary>
    internal bool Matches(ReadOnlySpan<char> host, ReadOnlySpan<char> path)
    {
        if (!MatchesHost(host))
        {
            return false;
        }
        StringComparison comparison = Options.CaseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        if (Options.Path is { } exact)
        {
            return path.Equals(exact, comparison);
        }
        return Options.PathPrefix is not { } prefix || path.StartsWith(prefix, comparison);
    }

    private bool MatchesHost(ReadOnlySpan<char> host)
    {
        if (_hostSuffix is not null)
        {
            // "*.example.com" matches "a.example.com" and "a.b.example.com", never "example.com".
            return host.Length > _hostSuffix.Length && host.EndsWith(_hostSuffix, StringComparison.OrdinalIgnoreCase);
        }
        return Options.Host == RouteOptions.AnyHost || host.Equals(Options.Host, StringComparison.OrdinalIgnoreCase);
    }
}
