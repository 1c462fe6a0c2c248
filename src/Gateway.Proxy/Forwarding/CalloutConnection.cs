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
    // The read kept pending while the connection is idle in its pool (BeginIdle), until a call takes it or it closes.
    // A task, not the pipe's ValueTask: it is asked whether it completed more than once before it is awaited.
    private Task<ReadResult> _idleRead = Task.FromResult(default(ReadResult));
    private bool _idleReadPending;

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
    /// Starts watching the connection as it goes idle: a read is kept pending on it until the next call takes it. Bytes
    /// the server sends past its response, or its FIN, complete that read wherever they wait: in the socket, or already
    /// in the TLS layer, which holds records it has read but not yet handed over and which no check of the socket sees.
    /// False when such bytes or the end are there already (KA-4): the next response would start in them, so the
    /// connection must close instead.
    /// </summary>
    public bool BeginIdle()
    {
        _idleRead = Input.ReadAsync().AsTask();
        _idleReadPending = true;
        return !_idleRead.IsCompleted;
    }

    /// <summary>
    /// KA-5 for an idle connection: the read kept pending since it went idle has completed, so bytes or a FIN (the server
    /// closing it while idle) arrived, or the connection failed. Such a connection is never reused, and its bytes are
    /// never taken as the next response.
    /// </summary>
    public bool IsStale() => _idleReadPending && _idleRead.IsCompleted;

    /// <summary>
    /// The next read of the response: for a connection taken from the pool, the read pending since it went idle, which
    /// the call's deadline cancels as it would any read.
    /// </summary>
    public ValueTask<ReadResult> ReadAsync(CancellationToken deadline)
    {
        if (!_idleReadPending)
        {
            return Input.ReadAsync(deadline);
        }
        _idleReadPending = false;
        return IdleReadAsync(deadline);
    }

    /// <summary>
    /// Ends the input's pending read, as cancelled, once <paramref name="deadline"/> passes: for reads that take no token,
    /// the one kept pending while idle and the body pump's.
    /// </summary>
    public CancellationTokenRegistration CancelReadsAt(CancellationToken deadline) =>
        deadline.UnsafeRegister(static input => ((PipeReader)input!).CancelPendingRead(), Input);

    private async ValueTask<ReadResult> IdleReadAsync(CancellationToken deadline)
    {
        using (CancelReadsAt(deadline))
        {
            ReadResult read = await _idleRead.ConfigureAwait(false);
            if (read.IsCanceled)
            {
                throw new OperationCanceledException(deadline);
            }
            return read;
        }
    }

    public void Dispose()
    {
        // Completing with an error discards what was written but not flushed: a call that ended mid-request must not
        // send the rest of it (CH-9), nor block here writing it.
        Output.Complete(Discarded);
        // The FIN goes now: a read pending on the socket would otherwise hold its close until the read ends.
        Shutdown();
        _tls?.Dispose();
        _network.Dispose();
        _socket.Dispose();
        if (_idleReadPending)
        {
            // The reader's buffer is out with the read the closed socket is now ending: it goes back once that read has.
            _idleReadPending = false;
            _ = CompleteAfterIdleReadAsync();
        }
        else
        {
            Input.Complete();
        }
    }

    private void Shutdown()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset or closed by the server.
        }
    }

    private async Task CompleteAfterIdleReadAsync()
    {
        try
        {
            await _idleRead.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The socket was closed under it, as intended.
        }
        Input.Complete();
    }

    private static readonly Exception Discarded = new OperationCanceledException("callout connection closed by the gateway");
}
