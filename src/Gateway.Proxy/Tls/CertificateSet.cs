using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Proxy.Tls;

/// <summary>
/// The certificates one TLS listener serves, loaded whole from its PEM files: a default chain and chains chosen by
/// SNI (exact names first, then the longest matching <c>*.</c> wildcard), plus the client CAs for mTLS. Immutable:
/// a rotation builds a new set, and handshakes already running keep the one they started with.
/// </summary>
public sealed class CertificateSet
{
    private readonly SslStreamCertificateContext? _default;
    private readonly Dictionary<string, SslStreamCertificateContext> _exact;
    private readonly List<(string Suffix, SslStreamCertificateContext Context)> _wildcards;

    private CertificateSet(
        SslStreamCertificateContext? fallback, Dictionary<string, SslStreamCertificateContext> exact,
        List<(string, SslStreamCertificateContext)> wildcards, X509Certificate2Collection? clientCas)
    {
        _default = fallback;
        _exact = exact;
        _wildcards = wildcards;
        ClientCas = clientCas;
    }

    public X509Certificate2Collection? ClientCas { get; }

    /// <summary>Loads every file; throws <see cref="CryptographicException"/> or <see cref="IOException"/> naming what is wrong.</summary>
    public static CertificateSet Load(ListenerTlsOptions options)
    {
        SslStreamCertificateContext? fallback = options.CertFile is { } cert && options.KeyFile is { } key ? Context(cert, key) : null;
        var exact = new Dictionary<string, SslStreamCertificateContext>(StringComparer.OrdinalIgnoreCase);
        var wildcards = new List<(string, SslStreamCertificateContext)>();
        foreach (SniCertificateOptions entry in options.Certificates)
        {
            SslStreamCertificateContext context = Context(entry.CertFile, entry.KeyFile);
            foreach (string name in entry.ServerNames)
            {
                if (name.StartsWith("*.", StringComparison.Ordinal))
                {
                    wildcards.Add((name[1..], context));
                }
                else
                {
                    exact.TryAdd(name, context);
                }
            }
        }
        // Longest suffix first: "*.api.example.com" wins over "*.example.com".
        wildcards.Sort(static (a, b) => b.Item1.Length.CompareTo(a.Item1.Length));
        X509Certificate2Collection? cas = null;
        if (options.ClientCaFile is { } caFile)
        {
            cas = [];
            cas.ImportFromPemFile(caFile);
            if (cas.Count == 0)
            {
                throw new CryptographicException($"{caFile} holds no certificate");
            }
        }
        return new CertificateSet(fallback, exact, wildcards, cas);
    }

    /// <summary>The chain for an SNI name (null or empty: the default); null when nothing fits and there is no default.</summary>
    public SslStreamCertificateContext? Select(string? serverName)
    {
        if (!string.IsNullOrEmpty(serverName))
        {
            if (_exact.TryGetValue(serverName, out SslStreamCertificateContext? exact))
            {
                return exact;
            }
            foreach ((string suffix, SslStreamCertificateContext context) in _wildcards)
            {
                // "*.example.com" covers exactly one more label, as certificate wildcards do (RFC 6125 §6.4.3).
                if (serverName.Length > suffix.Length && serverName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                    && serverName.AsSpan(0, serverName.Length - suffix.Length).IndexOf('.') < 0)
                {
                    return context;
                }
            }
        }
        return _default;
    }

    private static SslStreamCertificateContext Context(string certFile, string keyFile)
    {
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(certFile);
        if (chain.Count == 0)
        {
            throw new CryptographicException($"{certFile} holds no certificate");
        }
        // CreateFromPemFile pairs the key with the first certificate and refuses a key of another certificate. On
        // Linux a key held only in memory serves handshakes, so no PKCS#12 round trip is needed.
        X509Certificate2 leaf = PemPair.Load(certFile, keyFile);
        var intermediates = new X509Certificate2Collection();
        for (int i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }
}
