using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Gateway.Perf.Load;

/// <summary>
/// One HTTP/1.1 client connection, plain or TLS, with blocking I/O, driven by its own thread: a blocking receive
/// wakes exactly the thread that waits for the response, so the measured time has no thread-pool hop in it. One
/// request is outstanding at a time; a closed connection is reopened before the next one. Kept alive by default;
/// with <c>connectionPerRequest</c> each request gets a new connection (over TLS, a full handshake per request).
/// </summary>
public sealed class LoadConnection : IDisposable
{
    private readonly IPEndPoint _endPoint;
    private readonly RequestTemplate _template;
    private readonly SslClientAuthenticationOptions? _tls;
    private readonly bool _connectionPerRequest;
    private readonly byte[] _request;
    private readonly byte[] _receive = new byte[64 * 1024];
    private readonly int _receiveTimeoutMs;
    private Socket? _socket;
    private Stream? _stream;
    private int _buffered;

    /// <param name="receiveTimeoutMs">
    /// Bounds every wait for a response: a proxy that accepts a connection and never answers
    /// (HAProxy past maxconn leaves it in the backlog) must fail the request, not hang the run.
    /// </param>
    public LoadConnection(RequestTemplate template, TlsClient? tls = null, bool connectionPerRequest = false, int receiveTimeoutMs = 10_000)
    {
        _template = template;
        _tls = tls?.Options();
        _connectionPerRequest = connectionPerRequest;
        _receiveTimeoutMs = receiveTimeoutMs;
        _endPoint = new IPEndPoint(IPAddress.Parse(template.Host), template.Port);
        _request = new byte[template.MaxLength];
    }

    /// <summary>Connections opened (over TLS, handshakes completed), counting reconnects: a proxy that closes kept-alive connections shows here.</summary>
    public int Connects { get; private set; }

    /// <summary>The TLS version of the last handshake (for the report); None over plain TCP.</summary>
    public SslProtocols Protocol { get; private set; }

    public void Open()
    {
        if (_stream is not null)
        {
            return;
        }
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = _receiveTimeoutMs,
            SendTimeout = _receiveTimeoutMs,
        };
        Stream? stream = null;
        try
        {
            socket.Connect(_endPoint);
            stream = new NetworkStream(socket, ownsSocket: false);
            if (_tls is not null)
            {
                var tls = new SslStream(stream);
                stream = tls;
                tls.AuthenticateAsClient(_tls);
                Protocol = tls.SslProtocol;
            }
        }
        catch
        {
            stream?.Dispose();
            socket.Dispose();
            throw;
        }
        _socket = socket;
        _stream = stream;
        _buffered = 0;
        Connects++;
    }

    /// <summary>Sends request <paramref name="index"/> and blocks until its response is complete; returns the status code.</summary>
    public int Exchange(long index)
    {
        Open();
        var stream = _stream!;
        try
        {
            var length = _template.Write(_request, index);
            stream.Write(_request, 0, length);
            while (true)
            {
                var outcome = ResponseFraming.TryFrame(_receive.AsSpan(0, _buffered), out var responseLength, out var status, out var close);
                if (outcome == ResponseFraming.Outcome.Complete)
                {
                    Consume(responseLength);
                    if (close || _connectionPerRequest)
                    {
                        Close();
                    }
                    return status;
                }
                if (outcome == ResponseFraming.Outcome.Malformed || _buffered == _receive.Length)
                {
                    throw new InvalidDataException("malformed or oversized response");
                }
                var read = stream.Read(_receive, _buffered, _receive.Length - _buffered);
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

    private void Consume(int length)
    {
        // Only one request is outstanding, so anything left over would be a protocol error upstream;
        // keep it so the next TryFrame reports it rather than silently dropping bytes.
        _buffered -= length;
        if (_buffered > 0)
        {
            Buffer.BlockCopy(_receive, length, _receive, 0, _buffered);
        }
    }

    public void Close()
    {
        _stream?.Dispose();
        _stream = null;
        _socket?.Dispose();
        _socket = null;
        _buffered = 0;
    }

    public void Dispose() => Close();
}
