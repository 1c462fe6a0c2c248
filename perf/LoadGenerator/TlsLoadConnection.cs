using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Perf.Load;

/// <summary>
/// One HTTP/1.1 client connection over TLS with blocking I/O on its own thread, as <see cref="LoadConnection"/> is for
/// plain TCP. Either kept alive (TLS record cost per request) or, with <c>handshakePerRequest</c>, opened, used for one
/// request and closed (a full handshake per request: session resumption is off, so none is abbreviated).
/// </summary>
public sealed class TlsLoadConnection : IDisposable
{
    private readonly IPEndPoint _endPoint;
    private readonly RequestTemplate _template;
    private readonly SslClientAuthenticationOptions _options;
    private readonly bool _handshakePerRequest;
    private readonly byte[] _request;
    private readonly byte[] _receive = new byte[64 * 1024];
    private readonly int _timeoutMs;
    private Socket? _socket;
    private SslStream? _tls;
    private int _buffered;

    /// <param name="trust">The CA that issued the server's certificate: the loader verifies it as a client would.</param>
    public TlsLoadConnection(RequestTemplate template, string serverName, X509Certificate2 trust, bool handshakePerRequest, int timeoutMs = 10_000)
    {
        _template = template;
        _handshakePerRequest = handshakePerRequest;
        _timeoutMs = timeoutMs;
        _endPoint = new IPEndPoint(IPAddress.Parse(template.Host), template.Port);
        _request = new byte[template.MaxLength];
        _options = new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // Every handshake of the handshake phase is a full one, whatever tickets the server hands out.
            AllowTlsResume = false,
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck },
        };
        _options.CertificateChainPolicy.CustomTrustStore.Add(trust);
    }

    /// <summary>TLS handshakes completed, counting reconnects.</summary>
    public int Handshakes { get; private set; }

    /// <summary>The protocol of the last handshake (for the report).</summary>
    public SslProtocols Protocol { get; private set; }

    public void Open()
    {
        if (_tls is not null)
        {
            return;
        }
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = _timeoutMs,
            SendTimeout = _timeoutMs,
        };
        SslStream? tls = null;
        try
        {
            socket.Connect(_endPoint);
            tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            tls.AuthenticateAsClient(_options);
        }
        catch
        {
            tls?.Dispose();
            socket.Dispose();
            throw;
        }
        _socket = socket;
        _tls = tls;
        _buffered = 0;
        Handshakes++;
        Protocol = tls.SslProtocol;
    }

    /// <summary>Sends request <paramref name="index"/> and blocks until its response is complete; returns the status code.</summary>
    public int Exchange(long index)
    {
        Open();
        var tls = _tls!;
        try
        {
            var length = _template.Write(_request, index);
            tls.Write(_request, 0, length);
            while (true)
            {
                var outcome = ResponseFraming.TryFrame(_receive.AsSpan(0, _buffered), out var responseLength, out var status, out var close);
                if (outcome == ResponseFraming.Outcome.Complete)
                {
                    _buffered -= responseLength;
                    if (_buffered > 0)
                    {
                        Buffer.BlockCopy(_receive, responseLength, _receive, 0, _buffered);
                    }
                    if (close || _handshakePerRequest)
                    {
                        Close();
                    }
                    return status;
                }
                if (outcome == ResponseFraming.Outcome.Malformed || _buffered == _receive.Length)
                {
                    throw new InvalidDataException("malformed or oversized response");
                }
                var read = tls.Read(_receive, _buffered, _receive.Length - _buffered);
                if (read == 0)
                {
                    throw new IOException("connection closed before the response was complete");
                }
                _buffered += read;
            }
        }
        catch
        {
            Close();
            throw;
        }
    }

    public void Close()
    {
        _tls?.Dispose();
        _tls = null;
        _socket?.Dispose();
        _socket = null;
        _buffered = 0;
    }

    public void Dispose() => Close();
}
