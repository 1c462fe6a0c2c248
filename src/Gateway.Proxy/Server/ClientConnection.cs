using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Gateway.Http.Async;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Http.Transport;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Routing;
using Gateway.Proxy.Tls;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy.Server;

/// <summary>
/// One client connection, for its whole life on one worker: reads request heads under the header and
/// idle deadlines (TO-1, TO-3), answers parse errors in one place, and hands each request to a
/// <see cref="ProxyExchange"/>; its <see cref="TransferWatchdog"/> bounds body transfers (TO-2, TO-4).
/// Requests are handled strictly in order (KA-1); after a framing error the connection never carries
/// another request (G-8).
/// </summary>
internal sealed class ClientConnection
{
    private readonly Socket _socket;
    // Made on the worker when the connection starts there (RunAsync): the worker's epoll carries it.
    private WorkerSocketStream _stream = null!;
    private readonly ProxyServer _server;
    private readonly ProxyWorker _worker;
    private readonly ILogger _logger;
    // The request's state, reset per request; the head parser fills its request head.
    private readonly ExchangeState _state = new();
    private readonly ProxyExchange _exchange;
    // TO-1 / TO-3 on the worker's clock: it ends a wait for a head by cancelling the pending read.
    private readonly Deadline _headDeadline;
    private TransferWatchdog? _watchdog;
    private PluginDeadline? _pluginDeadline;
    private StreamInfo? _streamInfo;
    private Route? _streamInfoRoute;
    private RequestRejection _rejection;
    private bool _idle;
    // The head's TO-1 deadline runs: from accept for a first request, from its first byte for a later one.
    private bool _headerClockRunning;
    // The head deadline passed or a drain closed the idle connection: the head read in progress ends.
    private bool _headWaitEnded;
    private SslStream? _tlsStream;
    private ForwardingLines? _forwarding;

    public ClientConnection(Socket socket, Listener listener, ProxyServer server, ProxyWorker worker, ILogger logger)
    {
        Listener = listener;
        _socket = socket;
        _server = server;
        _worker = worker;
        _logger = logger;
        Remote = socket.RemoteEndPoint as IPEndPoint;
        Local = socket.LocalEndPoint as IPEndPoint;
        _exchange = new ProxyExchange(this, _state, worker, logger);
        _headDeadline = new Deadline(worker.Loop.Deadlines, static s => ((ClientConnection)s!).EndHeadWait(), this);
    }

    /// <summary>The listener that accepted this connection; its slot is released when the connection closes.</summary>
    public Listener Listener { get; }

    public PipeReader Input { get; private set; } = null!;

    public PipeWriter Output { get; private set; } = null!;

    /// <summary>What plugins may read about this connection's TLS; null on a plain listener.</summary>
    public ConnectionTls? Tls { get; private set; }

    public IPEndPoint? Remote { get; }

    public IPEndPoint? Local { get; }

    /// <summary>The fields the gateway adds to this connection's requests; made at its first request, not per request.</summary>
    public ForwardingLines Forwarding => _forwarding ??= new ForwardingLines(ForwardingHeaders.ForwardedFor(Remote?.Address), Listener.Scheme);

    public ProxyServer Server => _server;

    /// <summary>TO-2 / TO-4 for this connection; made on first use so a connection that never moves a body holds none.</summary>
    public TransferWatchdog Watchdog => _watchdog ??= new TransferWatchdog(Input, Output, _worker.Loop.Deadlines);

    /// <summary>What this connection's plugin streams on <paramref name="route"/> read as properties; made again only when the route changes.</summary>
    public StreamInfo StreamInfo(Route route)
    {
        if (_streamInfo is null || _streamInfoRoute != route)
        {
            _streamInfo = new StreamInfo(route.Name, route.Cluster.Name, Remote, Local, Forwarding, "HTTP/1.1", Tls);
            _streamInfoRoute = route;
        }
        return _streamInfo;
    }

    /// <summary>Bounds the plugin phases that pause; made on first use, so a connection on routes without plugins holds none.</summary>
    public PluginDeadline PluginDeadline => _pluginDeadline ??= new PluginDeadline(_worker.Loop.Deadlines);

    /// <summary>Closes the connection if it is waiting for a next request (graceful drain); run on the worker (the drain posts it).</summary>
    public void CloseIfIdle()
    {
        if (_idle)
        {
            EndHeadWait();
        }
    }

    public async Task RunAsync()
    {
        _server.ConnectionOpened(this, _worker);
        try
        {
            _stream = new WorkerSocketStream(_socket, _worker.Loop);
        }
        catch (IOException e)
        {
            // The worker's epoll refused the socket (out of watches or memory): the connection cannot be served.
            ProxyLog.ConnectionFailed(_logger, e, "connection");
            _socket.Dispose();
            Discard();
            return;
        }
        if (Listener.Tls is null)
        {
            // A TLS connection gets its pipes over the TLS stream once the handshake is done.
            Input = new SocketPipeReader(_stream);
            Output = new SocketPipeWriter(_stream);
        }
        else if (!await StartTlsAsync(Listener.Tls))
        {
            _stream.Dispose();
            Discard();
            return;
        }
        try
        {
            bool first = true;
            while (true)
            {
                ProxySnapshot snapshot = _server.Snapshot;
                HeadResult head = BeginHead(snapshot, first);
                while (head == HeadResult.Incomplete)
                {
                    // The socket completes its reads on the worker, and the deadline cancels them there, so a read
                    // resumes this loop right there instead of through the worker's queue (checked: EnsureCurrent).
                    ReadResult read = await Input.ReadAsync().ConfigureAwait(false);
                    head = TakeHead(read, snapshot, first);
                }
                // The connection's pooled steps end on its worker and resume this loop there without a post.
                _worker.Loop.EnsureCurrent();
                _headDeadline.Disarm();
                first = false;
                if (head == HeadResult.Closed)
                {
                    return;
                }
                if (head != HeadResult.Parsed)
                {
                    await RejectAsync(snapshot, head);
                    return;
                }
                // The head may have waited through a reload: the exchange runs on the newest snapshot, so a worker
                // never goes back to one it has left (whose plugins may be gone).
                ProxySnapshot current = _server.Snapshot;
                bool keepAlive = await _exchange.RunAsync(current).ConfigureAwait(false);
                _worker.Loop.EnsureCurrent();
                if (!keepAlive || _server.IsDraining)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer went away mid-exchange: nothing left to answer.
        }
        catch (Exception e)
        {
            ProxyLog.ConnectionFailed(_logger, e, "connection");
        }
        finally
        {
            await CloseAsync();
            _server.ConnectionClosed(this, _worker);
        }
    }

    /// <summary>Ends a connection that never got to its first request.</summary>
    private void Discard()
    {
        _headDeadline.Dispose();
        _exchange.Dispose();
        _server.ConnectionClosed(this, _worker);
    }

    private void CreateTlsPipes(SslStream tls)
    {
        // Back-pressure: the reader pulls from the stream only as the proxy consumes (StreamPipeReader reads on demand).
        // Zero-byte reads: a connection waiting for its next request holds no buffer (SslStream passes them through).
        Input = PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true, useZeroByteReads: true));
        Output = PipeWriter.Create(tls, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
    }

    /// <summary>
    /// The TLS handshake, within limits.headerTimeoutMs. A failure of any kind (plain HTTP, unknown SNI without a
    /// default, a refused client certificate, a timeout) ends the connection without a byte of HTTP and one log line.
    /// The TLS library takes a token, not a reader to cancel: one token source per TLS connection, not per request.
    /// </summary>
    private async ValueTask<bool> StartTlsAsync(TlsTerminator terminator)
    {
        using var handshakeDeadline = new CancellationTokenSource(_server.Snapshot.Limits.HeaderTimeoutMs);
        try
        {
            SslStream tls = await terminator.AuthenticateAsync(_stream, handshakeDeadline.Token);
            _tlsStream = tls;
            Tls = new ConnectionTls(
                TlsVersions.Label(tls.SslProtocol),
                tls.RemoteCertificate is not null,
                tls.RemoteCertificate?.Subject,
                tls.TargetHostName.Length > 0 ? tls.TargetHostName : null);
            CreateTlsPipes(tls);
            return true;
        }
        catch (Exception e)
        {
            string reason = e switch
            {
                OperationCanceledException => "handshake not completed within limits.headerTimeoutMs",
                TlsRefusedException => e.Message,
                _ => e.InnerException?.Message ?? e.Message,
            };
            _server.EdgeMetrics.HandshakeFailed(Listener.Index);
            EdgeLog.TlsHandshakeFailed(_logger, Listener.Name, Remote?.ToString() ?? "", reason);
            return false;
        }
    }

    private enum HeadResult
    {
        Incomplete,
        Parsed,
        Closed,
        TimedOut,
        Rejected,
    }

    /// <summary>
    /// Starts the wait for a request head: the head cleared and its deadline armed. Incomplete, or Closed when the
    /// server drains and the connection is idle.
    /// </summary>
    private HeadResult BeginHead(ProxySnapshot snapshot, bool first)
    {
        _state.Request.Reset();
        // TO-1 counts from accept for the first request; later ones get the idle deadline until their first byte.
        _headerClockRunning = first;
        ArmHeadDeadline(first ? snapshot.Limits.HeaderTimeoutMs : snapshot.Limits.IdleTimeoutMs);
        _idle = !first;
        return _idle && _server.IsDraining ? HeadResult.Closed : HeadResult.Incomplete;
    }

    /// <summary>Parses what one read of the head brought; Incomplete when the head needs more bytes.</summary>
    private HeadResult TakeHead(in ReadResult read, ProxySnapshot snapshot, bool first)
    {
        ReadOnlySequence<byte> buffer = read.Buffer;
        if (read.IsCanceled || _headWaitEnded)
        {
            // Bytes that came with the deadline do not save the head: the reader may still hold its cancellation,
            // and the connection is not read again.
            Input.AdvanceTo(buffer.Start);
            bool sawBytes = _headerClockRunning && !_idle;
            _idle = false;
            return sawBytes || first ? HeadResult.TimedOut : HeadResult.Closed;
        }
        if (!buffer.IsEmpty && !_headerClockRunning)
        {
            _headerClockRunning = true;
            ArmHeadDeadline(snapshot.Limits.HeaderTimeoutMs);
        }
        if (!buffer.IsEmpty)
        {
            _idle = false;
        }
        var reader = new SequenceReader<byte>(buffer);
        ParseStatus status = RequestHeadParser.TryParse(ref reader, snapshot.Limits, _state.Request, out _rejection);
        if (status == ParseStatus.Complete)
        {
            Input.AdvanceTo(reader.Position);
            return HeadResult.Parsed;
        }
        if (status == ParseStatus.Rejected)
        {
            Input.AdvanceTo(buffer.End);
            return HeadResult.Rejected;
        }
        Input.AdvanceTo(buffer.Start, buffer.End);
        // A partial head and then EOF: nothing to answer to.
        return read.IsCompleted ? HeadResult.Closed : HeadResult.Incomplete;
    }

    private ValueTask RejectAsync(ProxySnapshot snapshot, HeadResult head) => _exchange.RejectHeadAsync(snapshot, head == HeadResult.TimedOut
        ? ExchangeError.TimedOut(ExchangeStage.RequestHead, ClientTimeout.Header)
        : ExchangeError.Rejected(ExchangeStage.RequestHead, _rejection));

    /// <summary>Flushes a response written outside a body pump; false when the connection cannot carry more.</summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    public async ValueTask<bool> FlushAsync()
    {
        try
        {
            ValueTask<FlushResult> pending = Output.FlushAsync();
            if (pending.IsCompleted)
            {
                return !pending.Result.IsCompleted;
            }
            // TO-4: an answer the client does not read is not waited for forever.
            TransferWatchdog watch = Watchdog;
            ProxySnapshot snapshot = _server.Snapshot;
            watch.BeginResponse(snapshot.Limits);
            watch.WaitBegan();
            FlushResult result;
            try
            {
                result = await pending;
            }
            finally
            {
                watch.End();
            }
            if (watch.Expired != ClientTimeout.None)
            {
                snapshot.Metrics.ClientTimedOut(ClientTimeout.ResponseWrite);
                ProxyLog.ClientTimedOut(_logger, "", "local_response", ClientTimeouts.Label(ClientTimeout.ResponseWrite), 0, Remote?.ToString() ?? "", "");
                return false;
            }
            return !result.IsCompleted;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private void ArmHeadDeadline(int milliseconds)
    {
        _headWaitEnded = false;
        _headDeadline.Arm(milliseconds);
    }

    private void EndHeadWait()
    {
        _headWaitEnded = true;
        Input.CancelPendingRead();
    }

    private async ValueTask CloseAsync()
    {
        // A drain's later CloseIfIdle must not touch the pipes this completes.
        _idle = false;
        _headDeadline.Dispose();
        _exchange.Dispose();
        _pluginDeadline?.Dispose();
        if (_watchdog is not null)
        {
            bool stalled = _watchdog.Expired == ClientTimeout.ResponseWrite;
            _watchdog.Dispose();
            if (stalled)
            {
                Abort();
                return;
            }
        }
        try
        {
            // TO-6 lingering close: stop writing, then give the client a moment to read the response
            // before the socket goes away, so it sees the answer rather than a reset.
            _socket.Shutdown(SocketShutdown.Send);
            using var linger = new CancellationTokenSource(200);
            var buffer = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                int total = 0;
                while (total < 64 * 1024)
                {
                    int n = await _stream.ReadAsync(buffer, linger.Token);
                    if (n == 0)
                    {
                        break;
                    }
                    total += n;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
        }
        await Input.CompleteAsync();
        try
        {
            await Output.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client is gone; nothing buffered can reach it.
        }
        _tlsStream?.Dispose();
        _stream.Dispose();
    }

    /// <summary>
    /// TO-4: the client stopped reading, so nothing queued can reach it. A reset frees the socket's unsent
    /// bytes now instead of lingering behind them, and completing the writer with an error discards its own.
    /// </summary>
    private void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // The peer already reset it: a plain close is as abrupt.
        }
        _tlsStream?.Dispose();
        _stream.Dispose();
        Output.Complete(StalledClient);
        Input.Complete();
    }

    private static readonly Exception StalledClient = new IOException("client stopped reading (TO-4)");
}
