namespace Gateway.Configuration;

/// <summary>Config <c>clusters.&lt;c&gt;.tls</c>: TLS to the cluster's endpoints, pooled like plain connections.</summary>
public sealed record ClusterTlsConfig
{
    public bool Enabled { get; init; } = true;
    /// <summary>PEM CA bundle the upstream certificate must chain to; null uses the system store.</summary>
    public string? CaFile { get; init; }
    /// <summary>Name sent as SNI and checked in the certificate; null uses each endpoint's host.</summary>
    public string? ServerName { get; init; }
    /// <summary>Client certificate chain and key presented to the upstream (mTLS), both or neither.</summary>
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
}
