using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Http;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Http.Transport;
using Microsoft.Extensions.Logging;

namespace Gateway.Admin;

/// <summary>
/// The read-only admin port: <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>, <c>/config</c>. It runs on the
/// thread pool, apart from the workers, so a saturated data plane still answers probes. Requests are
/// parsed by the same strict parser as the data plane; every response closes its connection.
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    private static readonly HttpLimits Limits = new() { MaxRequestLineBytes = 4096, MaxHeaderBytes = 16384, MaxHeaderCount = 64, MaxBodyBytes = 0 };

    private readonly IAdminEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _maxConnections = 64;
    private int _open;
    private long _refused;

    public AdminServer(IAdminEndpoints endpoints, ILogger logger)
    {
        _endpoints = endpoints;
        _logger = logger;
    }

    public IPEndPoint? BoundEndpoint { get; private set; }

    /// <summary>Connections closed at accept because <c>admin.maxConnections</c> were open.</summary>
    public long RefusedConnections => Interlocked.Read(ref _refused);

    public void Start(string address, int port, int maxConnections)
    {
        _maxConnections = maxConnections;
        _listener = ListeningSocket.Open(IPAddress.Parse(address), port, backlog: 128, "admin.port");
        BoundEndpoint = (IPEndPoint)_listener.LocalEndPoint!;
        AdminLog.Started(_logger, BoundEndpoint.ToString());
        _acceptLoop = AcceptLoopAsync(_listener);
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            // A flood of scrapes or probes cannot pile up connections: each holds a buffer for up to 10 s.
            if (Interlocked.Increment(ref _open) > _maxConnections)
            {
                Interlocked.Decrement(ref _open);
                Interlocked.Increment(ref _refused);
                client.Dispose();
                continue;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var input = PipeReader.Create(stream);
        var output = PipeWriter.Create(stream);
        var head = new HttpRequestHead();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                ReadResult read = await input.ReadAsync(timeout.Token);
                var reader = new SequenceReader<byte>(read.Buffer);
                ParseStatus status = RequestHeadParser.TryParse(ref reader, Limits, head, out RequestRejection rejection);
                if (status == ParseStatus.Complete)
                {
                    input.AdvanceTo(reader.Position);
                    break;
                }
                if (status == ParseStatus.Rejected)
                {
                    await WriteAsync(output, RequestRejections.StatusCode(rejection), "text/plain", RequestRejections.Reason(rejection) + "\n");
                    return;
                }
                input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }
            }
            if (head.Method is not ("GET" or "HEAD"))
            {
                await WriteAsync(output, 405, "text/plain", "the admin port is read-only\n");
                return;
            }
            var (code, type, body) = Answer(head.Path.ToString());
            await WriteAsync(output, code, type, head.Method == "HEAD" ? "" : body);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
        }
        finally
        {
            await input.CompleteAsync();
            await output.CompleteAsync();
            Interlocked.Decrement(ref _open);
        }
    }

    private (int Status, string ContentType, string Body) Answer(string path)
    {
        switch (path)
        {
            case "/healthz":
                return (200, "text/plain", "ok\n");
            case "/readyz":
                string? notReady = _endpoints.NotReadyReason;
                return notReady is null ? (200, "text/plain", "ready\n") : (503, "text/plain", notReady + "\n");
            case "/metrics":
                var metrics = new StringBuilder(16 * 1024);
                _endpoints.WriteMetrics(metrics);
                return (200, "text/plain; version=0.0.4; charset=utf-8", metrics.ToString());
            case "/config":
                return (200, "application/json", _endpoints.RedactedConfigJson());
            default:
                return (404, "text/plain", "not found: try /healthz /readyz /metrics /config\n");
        }
    }

    private static async ValueTask WriteAsync(PipeWriter output, int status, string contentType, string body)
    {
        byte[] payload = Encoding.UTF8.GetBytes(body);
        string head = $"HTTP/1.1 {status} {Gateway.Proxy.Forwarding.ReasonPhrases.For(status)}\r\ncontent-type: {contentType}\r\ncontent-length: {payload.Length}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n";
        output.Write(Encoding.ASCII.GetBytes(head));
        output.Write(payload);
        await output.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener?.Dispose();
        await _acceptLoop;
        _stopping.Dispose();
    }
}
