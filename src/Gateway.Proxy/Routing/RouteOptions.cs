namespace Gateway.Proxy.Routing;

/// <summary>One entry of config <c>routes</c>: where a request goes and which plugins it passes; owns the defaults the config record uses.</summary>
public sealed record RouteOptions
{
    public const string AnyHost = "*";
    public const bool DefaultCaseSensitive = true;

    /// <summary>WebSocket is relayed unless a route lists its own upgrades.</summary>
    public static readonly IReadOnlyList<string> DefaultUpgrades = ["websocket"];

    public required string Name { get; init; }

    /// <summary><c>*</c> (any), an exact host, or <c>*.example.com</c> (any subdomain, not the apex).</summary>
    public string Host { get; init; } = AnyHost;

    public string? PathPrefix { get; init; }

    public string? Path { get; init; }

    /// <summary>False: the path matches regardless of ASCII case (the forwarded path keeps the client's case).</summary>
    public bool CaseSensitive { get; init; } = DefaultCaseSensitive;

    public required string Cluster { get; init; }

    public IReadOnlyList<string> Plugins { get; init; } = [];

    /// <summary>Upgrade protocols (UP-1 allow-list) relayed as tunnels; WebSocket by default.</summary>
    public IReadOnlyList<string> Upgrades { get; init; } = DefaultUpgrades;
}
