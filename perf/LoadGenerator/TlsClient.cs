using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Perf.Load;

/// <summary>How a <see cref="LoadConnection"/> speaks TLS: the name it asks for and the CA it trusts, as a client would.</summary>
/// <param name="Trust">The CA that issued the server's certificate.</param>
public sealed record TlsClient(string ServerName, X509Certificate2 Trust)
{
    /// <summary>Fresh options for one connection; session resumption is off, so every handshake is a full one.</summary>
    public SslClientAuthenticationOptions Options()
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = ServerName,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // Every handshake of the handshake phase is a full one, whatever tickets the server hands out.
            AllowTlsResume = false,
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck },
        };
        options.CertificateChainPolicy.CustomTrustStore.Add(Trust);
        return options;
    }
}
