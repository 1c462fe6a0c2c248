using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;

namespace Gateway.Proxy.Upstream;

/// <summary>One keep-alive TCP connection to an upstream endpoint, owned by one worker's pool.</summary>
public sealed class UpstreamConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SslStream? _tls;

    internal UpstreamConnection(UpstreamEndpoint endpoint, Socket socket, NetworkStream stream, SslStream? tls)
    {
        Endpoint = endpoint;
        _socket = socket;
        _stream = stream;
        _tls = tls;
        // Small pipes: a response body is streamed through, never buffered whole.
        Stream transport = tls is null ? stream : tls;
        Input = PipeReader.Create(transport, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true));
        Output = PipeWriter.Create(transport, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
    }

    public UpstreamEndpoint Endpoint { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>How many requests this connection has carried (0 = fresh).</summary>
    public int RequestCount { get; internal set; }

    internal long IdleSinceTicks { get; set; }

    /// <summary>
    /// KA-5: a pooled connection on which bytes or a FIN arrived while idle must not be reused; its
    /// bytes are never taken as the next response. One poll tells both: readable means data, FIN or error.
    /// </summary>
    internal bool IsStale()
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

    public void Dispose()
    {
        // Completing with an error discards whatever was buffered but not flushed: a connection closed
        // mid-exchange must not send the rest of a request (CH-9).
        Output.Complete(Discarded);
        Input.Complete();
        _tls?.Dispose();
        _stream.Dispose();
    }

    private static readonly Exception Discarded = new OperationCanceledException("upstream connection closed by the gateway");
}
