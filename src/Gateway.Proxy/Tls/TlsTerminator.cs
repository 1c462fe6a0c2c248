using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Http.Transport;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy.Tls;

/// <summary>
/// TLS termination for one listener: completes server handshakes with the certificate the client's SNI asks for,
/// verifies client certificates when mTLS is on, and watches the PEM files. A rotation (a Kubernetes Secret update
/// swaps the files) is picked up within a watch interval for new handshakes; open connections keep theirs; a new
/// pair that does not load is refused with one log line and the previous set keeps serving.
/// </summary>
internal sealed class TlsTerminator : IDisposable
{
    private static readonly List<SslApplicationProtocol> Http11 = [SslApplicationProtocol.Http11];

    private readonly ListenerTlsOptions _options;
    private readonly string _listener;
    private readonly ILogger _logger;
    private readonly Timer _watch;
    private readonly ServerOptionsSelectionCallback _select;
    private CertificateSet _current;
    private byte[] _fingerprint;
    private byte[]? _refusedFingerprint;

    public TlsTerminator(string listener, ListenerTlsOptions options, ILogger logger)
    {
        _listener = listener;
        _options = options;
        _logger = logger;
        _fingerprint = Fingerprint(options);
        _current = CertificateSet.Load(options); // at start a broken pair is a start-up error
        _select = SelectOptions;
        _watch = new Timer(static state => ((TlsTerminator)state!).CheckFiles(), this, options.WatchIntervalMs, options.WatchIntervalMs);
    }

    public CertificateSet Current => Volatile.Read(ref _current);

    /// <summary>
    /// Runs the server handshake. Anything that does not start like a TLS handshake record (plain HTTP sent to the
    /// TLS port) is refused before the handshake, so not a byte is written back.
    /// </summary>
    public async Task<SslStream> AuthenticateAsync(WorkerSocketStream transport, CancellationToken cancellation)
    {
        var first = new byte[1];
        int n = await transport.PeekAsync(first, cancellation);
        if (n == 0)
        {
            throw new TlsRefusedException("closed before the handshake");
        }
        if (first[0] != 0x16)
        {
            throw new TlsRefusedException("not a TLS handshake (plain HTTP on a TLS port?)");
        }
        var stream = new SslStream(transport, leaveInnerStreamOpen: true);
        try
        {
            await stream.AuthenticateAsServerAsync(_select, Current, cancellation);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
        return stream;
    }

    private ValueTask<SslServerAuthenticationOptions> SelectOptions(SslStream stream, SslClientHelloInfo hello, object? state, CancellationToken cancellation)
    {
        var set = (CertificateSet)state!;
        SslStreamCertificateContext context = set.Select(hello.ServerName)
            ?? throw new TlsRefusedException($"no certificate for server name \"{hello.ServerName}\" and no default");
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context,
            EnabledSslProtocols = _options.Protocols,
            ApplicationProtocols = Http11,
            AllowRenegotiation = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (set.ClientCas is { } cas)
        {
            options.ClientCertificateRequired = true;
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(cas);
            // The chain policy above decides; a client without a certificate or with an untrusted one is refused.
            options.RemoteCertificateValidationCallback = static (_, certificate, _, errors) => certificate is not null && errors == SslPolicyErrors.None;
        }
        return ValueTask.FromResult(options);
    }

    private void CheckFiles()
    {
        byte[] fingerprint;
        try
        {
            fingerprint = Fingerprint(_options);
        }
        catch (IOException)
        {
            return; // mid-swap: a file is briefly missing; the next tick sees the new one
        }
        if (fingerprint.AsSpan().SequenceEqual(_fingerprint) || (_refusedFingerprint is not null && fingerprint.AsSpan().SequenceEqual(_refusedFingerprint)))
        {
            return;
        }
        try
        {
            CertificateSet loaded = CertificateSet.Load(_options);
            Volatile.Write(ref _current, loaded);
            _fingerprint = fingerprint;
            _refusedFingerprint = null;
            EdgeLog.CertificatesReloaded(_logger, _listener);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Logged once per broken version of the files, not once per tick.
            _refusedFingerprint = fingerprint;
            EdgeLog.CertificatesRefused(_logger, _listener, e.Message);
        }
    }

    /// <summary>SHA-256 over every file's bytes: a rotation changes it whatever the files' timestamps say.</summary>
    private static byte[] Fingerprint(ListenerTlsOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string? path)
        {
            if (path is not null)
            {
                hash.AppendData(File.ReadAllBytes(path));
                hash.AppendData([0]);
            }
        }
        Add(options.CertFile);
        Add(options.KeyFile);
        foreach (SniCertificateOptions c in options.Certificates)
        {
            Add(c.CertFile);
            Add(c.KeyFile);
        }
        Add(options.ClientCaFile);
        return hash.GetHashAndReset();
    }

    public void Dispose() => _watch.Dispose();
}

/// <summary>A handshake the gateway refused on purpose; its message is the log line's reason.</summary>
internal sealed class TlsRefusedException(string message) : Exception(message);
