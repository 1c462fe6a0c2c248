using System.Security.Authentication;

namespace Gateway.Proxy.Tls;

/// <summary>TLS termination on one listener (config <c>listeners[].tls</c>); every path is a mounted PEM file.</summary>
public sealed record ListenerTlsOptions
{
    /// <summary>The default certificate chain (leaf first), used when no SNI entry matches.</summary>
    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>Certificates picked by the client's SNI name, exact or <c>*.</c> wildcard, in order.</summary>
    public IReadOnlyList<SniCertificateOptions> Certificates { get; init; } = [];

    /// <summary>When set, clients must present a certificate issued by one of these CAs (mTLS).</summary>
    public string? ClientCaFile { get; init; }

    /// <summary>From <c>minVersion</c>, whose default (TLS 1.2 and 1.3) the config record owns.</summary>
    public required SslProtocols Protocols { get; init; }

    /// <summary>How often the files are checked for a rotation.</summary>
    public int WatchIntervalMs { get; init; } = 1000;
}

/// <summary>One <c>listeners[].tls.certificates[]</c> entry.</summary>
public sealed record SniCertificateOptions
{
    public required IReadOnlyList<string> ServerNames { get; init; }

    public required string CertFile { get; init; }

    public required string KeyFile { get; init; }
}
