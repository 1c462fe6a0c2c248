using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Testing;

/// <summary>
/// A keep-alive HTTPS upstream answering 200 "secure" to every request; counts its TLS connections. Given a first
/// response and a trailing record, it answers its very first request with that response and then those bytes as a TLS
/// record of their own, in the same TCP write: the client's TLS layer reads both at once, and when its reader's
/// buffer fills at the first record's end, holds the second where no look at the socket finds it.
/// </summary>
public sealed class TlsTestUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly (string Response, string Record)? _first;
    private int _connections;
    private int _firstServed;

    public TlsTestUpstream(X509Certificate2 certificate, (string Response, string Record)? firstWithTrailingRecord = null)
    {
        _certificate = certificate;
        _first = firstWithTrailingRecord;
        _listener.Start();
        _accept = AcceptAsync();
    }

    public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public int Connections => Volatile.Read(ref _connections);

    public List<string> Heads { get; } = [];

    public string? ClientSubject { get; private set; }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        var corked = new CorkedStream(client.GetStream());
        using (client)
        await using (var ssl = new SslStream(corked))
        {
            try
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                }, _stop.Token);
                Interlocked.Increment(ref _connections);
                ClientSubject = ssl.RemoteCertificate?.Subject;
                var reader = new ByteReader(ssl);
                while (await reader.ReadHeadAsync(_stop.Token) is { } head)
                {
                    lock (Heads)
                    {
                        Heads.Add(head);
                    }
                    corked.Cork();
                    if (_first is var (response, record) && Interlocked.Exchange(ref _firstServed, 1) == 0)
                    {
                        await ssl.WriteAsync(System.Text.Encoding.Latin1.GetBytes(response), _stop.Token);
                        await ssl.WriteAsync(System.Text.Encoding.Latin1.GetBytes(record), _stop.Token);
                    }
                    else
                    {
                        await ssl.WriteAsync("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecure"u8.ToArray(), _stop.Token);
                    }
                    await corked.UncorkAsync(_stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
    }
}
