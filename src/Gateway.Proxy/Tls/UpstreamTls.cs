using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy.Tls;

/// <summary>
/// TLS to one cluster's endpoints (config <c>clusters.&lt;c&gt;.tls</c>): the server certificate is verified against
/// <c>caFile</c> (or the system store) and the name <c>serverName</c> (default: the endpoint's host); a client
/// certificate is presented when configured. A handshake that fails is logged here with its reason and the request
/// gets a 502. Files are read when the config snapshot is built.
/// </summary>
public sealed class UpstreamTls
{
    private readonly string _cluster;
    private readonly string? _serverName;
    private readonly X509Certificate2Collection? _trust;
    private readonly X509Certificate2Collection? _clientCertificate;
    private readonly ILogger _logger;

    public UpstreamTls(string cluster, UpstreamTlsOptions options, ILogger logger)
    {
        _cluster = cluster;
        _serverName = options.ServerName;
        _logger = logger;
        if (options.CaFile is { } caFile)
        {
            _trust = [];
            _trust.ImportFromPemFile(caFile);
        }
        if (options.CertFile is { } cert && options.KeyFile is { } key)
        {
            _clientCertificate = [PemPair.Load(cert, key)];
        }
    }

    /// <summary>
    /// The TLS stream over a connected socket's stream, or null after logging why the handshake failed;
    /// <paramref name="deadline"/> names what bounds it, for that log line.
    /// </summary>
    public async ValueTask<SslStream?> AuthenticateAsync(Stream transport, string host, string endpoint, CancellationToken cancellation, string deadline = "connectTimeoutMs")
    {
        var stream = new SslStream(transport, leaveInnerStreamOpen: true);
        string? failure = null;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = _serverName ?? host,
            ClientCertificates = _clientCertificate,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (errors != SslPolicyErrors.None)
                {
                    failure = Describe(errors, chain);
                }
                return errors == SslPolicyErrors.None;
            },
        };
        if (_trust is not null)
        {
            options.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(_trust);
        }
        try
        {
            await stream.AuthenticateAsClientAsync(options, cancellation);
            return stream;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
        {
            await stream.DisposeAsync();
            string reason = failure ?? (e is OperationCanceledException ? $"handshake not completed within {deadline}" : e.InnerException?.Message ?? e.Message);
            EdgeLog.UpstreamTlsFailed(_logger, _cluster, endpoint, reason);
            return null;
        }
    }

    /// <summary>
    /// True when <paramref name="other"/> sends the same server name, trusts the same certificates and presents the same
    /// client certificate, compared as read from the files: a connection either verified the other would have verified
    /// with the same identity, so a reload that reread unchanged files keeps the cluster's connections.
    /// </summary>
    public bool HandshakesAs(UpstreamTls other) =>
        _serverName == other._serverName && SameCertificates(_trust, other._trust) && SameCertificates(_clientCertificate, other._clientCertificate);

    private static bool SameCertificates(X509Certificate2Collection? a, X509Certificate2Collection? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }
        if (a.Count != b.Count)
        {
            return false;
        }
        for (int i = 0; i < a.Count; i++)
        {
            if (!a[i].RawDataMemory.Span.SequenceEqual(b[i].RawDataMemory.Span))
            {
                return false;
            }
        }
        return true;
    }

    private static string Describe(SslPolicyErrors errors, X509Chain? chain)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return "the upstream sent no certificate";
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return "the upstream certificate does not name the expected server name";
        }
        if (chain is not null && chain.ChainStatus.Length > 0)
        {
            return "the upstream certificate does not verify: " + chain.ChainStatus[0].Status + " " + chain.ChainStatus[0].StatusInformation.Trim();
        }
        return "the upstream certificate does not verify: " + errors;
    }
}

/// <summary>One cluster's <c>tls</c> settings.</summary>
public sealed record UpstreamTlsOptions
{
    public string? CaFile { get; init; }

    public string? ServerName { get; init; }

    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }
}
