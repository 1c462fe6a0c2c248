using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using Gateway.Http.Transport;

namespace Gateway.Proxy.Upstream;

/// <summary>One keep-alive TCP connection to an upstream endpoint, owned by one worker's pool.</summary>
internal sealed class UpstreamConnection : IDisposable
{
    private readonly WorkerSocketStream _stream;
    private readonly SslStream? _tls;
    private ValueTask<ReadResult> _idleRead;
    private bool _watching;

    internal UpstreamConnection(UpstreamEndpoint endpoint, WorkerSocketStream stream, SslStream? tls)
    {
        Endpoint = endpoint;
        _stream = stream;
        _tls = tls;
        // A response body is streamed through, never buffered whole, and a pooled connection watching for a response
        // holds no buffer: the socket's own pipes wait for data without one, and over TLS the pipe uses zero-byte reads.
        if (tls is null)
        {
            Input = new SocketPipeReader(stream);
            Output = new SocketPipeWriter(stream);
        }
        else
        {
            Input = PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true, useZeroByteReads: true));
            Output = PipeWriter.Create(tls, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        }
    }

    public UpstreamEndpoint Endpoint { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>How many requests this connection has carried (0 = fresh).</summary>
    public int RequestCount { get; internal set; }

    internal long IdleSinceTicks { get; set; }

    /// <summary>
    /// KA-5: a pooled connection on which bytes or a FIN arrived while idle must not be reused; its bytes are never
    /// taken as the next response. A pooled connection keeps a read pending (<see cref="WatchWhileIdle"/>), so what
    /// arrives completes it: a glance at that read tells, with no system call at the moment of reuse.
    /// </summary>
    internal bool IsStale() => _watching && _idleRead.IsCompleted;

    /// <summary>
    /// Starts the read that watches the connection while it sits in the pool. It is the read the next exchange would
    /// start anyway after sending its request, only earlier: the response completes it (<see cref="ReadAsync"/>).
    /// </summary>
    internal void WatchWhileIdle()
    {
        try
        {
            _idleRead = Input.ReadAsync();
            _watching = true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Unreadable: the read stands completed (failed), so the pool sees it stale and closes it.
            _idleRead = ValueTask.FromException<ReadResult>(e);
            _watching = true;
        }
    }

    /// <summary>
    /// The next read of the response: the pending watch read first, then plain reads. Pass no token: a deadline ends it
    /// through <see cref="PipeReader.CancelPendingRead"/>, which also reaches the read started while idle.
    /// </summary>
    public ValueTask<ReadResult> ReadAsync()
    {
        if (!_watching)
        {
            return Input.ReadAsync();
        }
        _watching = false;
        return _idleRead;
    }

    public void Dispose()
    {
        // Completing with an error discards whatever was buffered but not flushed: a connection closed
        // mid-exchange must not send the rest of a request (CH-9).
        Output.Complete(Discarded);
        // The socket goes first: it aborts a pending watch read before the reader returns that read's buffer.
        _tls?.Dispose();
        _stream.Dispose();
        if (_watching)
        {
            _watching = false;
            if (!_idleRead.IsCompleted)
            {
                // The aborted read owns its buffer until it ends: the reader gives the buffer back after that.
                _ = CompleteAfterAsync(_idleRead, Input);
                return;
            }
            Observe(_idleRead);
        }
        Input.Complete();
    }

    private static async Task CompleteAfterAsync(ValueTask<ReadResult> read, PipeReader input)
    {
        try
        {
            await read.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The socket was closed under it: the expected end.
        }
        input.Complete();
    }

    /// <summary>Takes the outcome of a finished watch read nobody will use, so its pooled state is released.</summary>
    private static void Observe(ValueTask<ReadResult> read)
    {
        try
        {
            _ = read.Result;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
        }
    }

    private static readonly Exception Discarded = new OperationCanceledException("upstream connection closed by the gateway");
}
