using System.Security.Authentication;

namespace Gateway.Proxy.Tls;

/// <summary>Names of TLS versions as Envoy reports them (<c>connection.tls_version</c>) and as config spells them.</summary>
public static class TlsVersions
{
    public static string Label(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };

    /// <summary>The versions a listener accepts for config <c>minVersion</c> "1.2" or "1.3"; null for anything else.</summary>
    public static SslProtocols? FromMinimum(string minVersion) => minVersion switch
    {
        "1.2" => SslProtocols.Tls12 | SslProtocols.Tls13,
        "1.3" => SslProtocols.Tls13,
        _ => null,
    };
}
