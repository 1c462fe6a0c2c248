using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// One connection of plugin callouts to a cluster endpoint, plain or TLS. A callout holds it alone while it sends its
/// request and reads the response, then hands it to the endpoint's <see cref="CalloutConnectionPool"/> or closes it.
/// It lives on the runtime's socket engine, not a worker's, because a callout completes off the worker threads.
/// </summary>
internal sealed class CalloutConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly SslStream? _tls;

    private CalloutConnection(Socket socket, NetworkStream network, SslStream? tls)
    {
        _socket = socket;
        _network = network;
        _tls = tls;
        Stream stream = tls ?? (Stream)network;
        // The pipes live as long as the connection, so a reused one allocates none per call.
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>When it went back to the pool (<see cref="Environment.TickCount64"/>), for the idle timeout.</summary>
    public long IdleSinceMs { get; set; }

    /// <summary>
    /// Connects to <paramref name="endpoint"/> and, for a cluster with <c>tls</c>, completes the handshake, verified as
    /// for proxied requests. Null when the handshake failed (it logged why): a refused certificate is a failed call,
    /// never a plain-text request to a TLS port. A refused connect throws <see cref="SocketException"/>, and the
    /// call's deadline <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<CalloutConnection?> OpenAsync(Cluster cluster, UpstreamEndpoint endpoint, CancellationToken deadline)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        NetworkStream? network = null;
        try
        {
            await socket.ConnectAsync(endpoint.Address, deadline).ConfigureAwait(false);
            network = new NetworkStream(socket, ownsSocket: false);
            SslStream? tls = null;
            if (cluster.Options.Tls is { } upstreamTls)
            {
                tls = await upstreamTls.AuthenticateAsync(network, endpoint.Address.Host, endpoint.HostHeader, deadline, "the http_call's timeout").ConfigureAwait(false);
                if (tls is null)
                {
                    network.Dispose();
                    socket.Dispose();
                    return null;
                }
            }
            return new CalloutConnection(socket, network, tls);
        }
        catch (Exception)
        {
            network?.Dispose();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// KA-5 for an idle callout connection: bytes or a FIN (the server closing it while idle) arrived, or the socket
    /// failed. Such a connection is never reused, and its bytes are never taken as the next response. One
    /// non-blocking poll, asked only when the connection is taken, rather than a read kept pending while idle.
    /// </summary>
    public bool IsStale()
    {
        try
        {
            return _socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>
    /// KA-4: whether bytes past the response's end already arrived (or the server's FIN with it); the next response
    /// would start in them, so the connection closes instead.
    /// </summary>
    public bool HasExtraBytes()
    {
        if (!Input.TryRead(out ReadResult read))
        {
            return false;
        }
        bool extra = !read.Buffer.IsEmpty || read.IsCompleted;
        Input.AdvanceTo(read.Buffer.Start);
        return extra;
    }

    public void Dispose()
    {
        // Completing with an error discards what was written but not flushed: a call that ended mid-request must not
        // send the rest of it (CH-9), nor block here writing it.
        Output.Complete(Discarded);
        Input.Complete();
        _tls?.Dispose();
        _network.Dispose();
        _socket.Dispose();
    }

    private static readonly Exception Discarded = new OperationCanceledException("callout connection closed by the gateway");
}
