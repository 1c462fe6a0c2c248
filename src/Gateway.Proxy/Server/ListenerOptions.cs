namespace Gateway.Proxy.Server;

/// <summary>One entry of config <c>listeners</c>; owns the defaults the config record uses.</summary>
public sealed record ListenerOptions
{
    public const string DefaultAddress = "0.0.0.0";
    public const int DefaultMaxConnections = 10_000;

    public required string Name { get; init; }

    public string Address { get; init; } = DefaultAddress;

    /// <summary>0 asks the OS for a free port (tests); the bound port is reported by <see cref="ProxyServer.BoundEndpoints"/>.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Client connections open at once on this listener; a connection accepted above it is closed at once.</summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>Set to terminate TLS on this listener.</summary>
    public Tls.ListenerTlsOptions? Tls { get; init; }
}
