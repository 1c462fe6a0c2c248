namespace Gateway.Configuration;

/// <summary>Config <c>listeners[].tls</c>: TLS termination with PEM files mounted from a Secret, watched for rotation.</summary>
public sealed record ListenerTlsConfig
{
    /// <summary>Default certificate chain (leaf first, then intermediates); used when no <see cref="Certificates"/> entry matches.</summary>
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    /// <summary>Chains chosen by the client's SNI name (exact or <c>*.</c> wildcard).</summary>
    public IReadOnlyList<SniCertificateConfig> Certificates { get; init; } = [];
    /// <summary>PEM CA bundle: when set, clients must present a certificate it issued (mTLS).</summary>
    public string? ClientCaFile { get; init; }
    /// <summary><c>1.2</c> (TLS 1.2 and 1.3) or <c>1.3</c>.</summary>
    public string MinVersion { get; init; } = "1.2";

    public bool Equals(ListenerTlsConfig? other) =>
        other is not null
        && CertFile == other.CertFile
        && KeyFile == other.KeyFile
        && ConfigEquality.Lists(Certificates, other.Certificates)
        && ClientCaFile == other.ClientCaFile
        && MinVersion == other.MinVersion;

    public override int GetHashCode() => HashCode.Combine(CertFile, KeyFile, ConfigEquality.ListHash(Certificates), ClientCaFile, MinVersion);
}

/// <summary>One <c>listeners[].tls.certificates[]</c> entry.</summary>
public sealed record SniCertificateConfig
{
    public required IReadOnlyList<string> ServerNames { get; init; }
    public required string CertFile { get; init; }
    public required string KeyFile { get; init; }

    public bool Equals(SniCertificateConfig? other) =>
        other is not null && ConfigEquality.Lists(ServerNames, other.ServerNames) && CertFile == other.CertFile && KeyFile == other.KeyFile;

    public override int GetHashCode() => HashCode.Combine(ConfigEquality.ListHash(ServerNames), CertFile, KeyFile);
}
