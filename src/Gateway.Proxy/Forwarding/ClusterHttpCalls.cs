using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using Gateway.Http;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// <c>proxy_http_call</c> toward configured clusters: one request on its own connection, the whole
/// response (head and a bounded body) collected and handed back. Plugin callouts are rare next to proxied
/// traffic, so they do not share the workers' pools (each is owned by its worker's thread, while a callout completes
/// off it); the plugin host posts the completion to the worker. A cluster's <c>tls</c> applies as on the proxy path.
/// </summary>
public sealed class ClusterHttpCalls : IHttpCallDispatcher
{
    private const int MaxResponseBodyBytes = 1024 * 1024;

    private static readonly HttpLimits ResponseLimits = new() { MaxHeaderBytes = 65536, MaxHeaderCount = 200, MaxBodyBytes = MaxResponseBodyBytes };

    private readonly Dictionary<string, Cluster> _clusters = new(StringComparer.Ordinal);
    private int _cursor;

    public ClusterHttpCalls(IReadOnlyList<ClusterOptions> clusters)
    {
        for (int i = 0; i < clusters.Count; i++)
        {
            _clusters[clusters[i].Name] = new Cluster(i, clusters[i]);
        }
    }

    public bool HasCluster(string cluster) => _clusters.ContainsKey(cluster);

    public void Send(string cluster, HttpRequestHead request, ReadOnlyMemory<byte> body, TimeSpan timeout, Action<HttpCallResult> onComplete)
    {
        if (!_clusters.TryGetValue(cluster, out var target))
        {
            onComplete(new HttpCallResult(false, null, [], "unknown cluster"));
            return;
        }
        _ = SendAsync(target, request, body, timeout, onComplete);
    }

    private async Task SendAsync(Cluster cluster, HttpRequestHead request, ReadOnlyMemory<byte> body, TimeSpan timeout, Action<HttpCallResult> onComplete)
    {
        HttpCallResult result;
        using var deadline = new CancellationTokenSource(timeout);
        UpstreamEndpoint endpoint = cluster.Pick(ref _cursor, null);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endpoint.Address, deadline.Token).ConfigureAwait(false);
            await using var network = new NetworkStream(socket, ownsSocket: false);
            // A cluster with tls gets it for callouts too, verified as for proxied requests; a refused certificate is
            // a failed call (the handshake logged why), never a plain-text request to a TLS port.
            await using SslStream? tls = cluster.Options.Tls is { } upstreamTls
                ? await upstreamTls.AuthenticateAsync(network, endpoint.Address.Host, endpoint.HostHeader, deadline.Token, "the http_call's timeout").ConfigureAwait(false)
                : null;
            if (cluster.Options.Tls is not null && tls is null)
            {
                onComplete(new HttpCallResult(false, null, [], "upstream TLS handshake failed"));
                return;
            }
            Stream stream = tls ?? (Stream)network;
            var output = PipeWriter.Create(stream);
            if (request.Authority.Length == 0)
            {
                request.Authority = endpoint.HostHeader;
            }
            HeadWriter.WriteRequest(output, request, body.IsEmpty ? BodyFraming.None : BodyFraming.ContentLength, body.Length);
            output.Write(body.Span);
            await output.FlushAsync(deadline.Token).ConfigureAwait(false);
            result = await ReadResponseAsync(PipeReader.Create(stream), request.Method == "HEAD", deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            result = new HttpCallResult(false, null, [], "timeout");
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            result = new HttpCallResult(false, null, [], "upstream unreachable or reset");
        }
        onComplete(result);
    }

    private static async Task<HttpCallResult> ReadResponseAsync(PipeReader input, bool isHead, CancellationToken ct)
    {
        var head = new HttpResponseHead();
        while (true)
        {
            ReadResult read = await input.ReadAsync(ct).ConfigureAwait(false);
            if (TryParseHead(read.Buffer, isHead, head, out SequencePosition consumed, out bool failed))
            {
                input.AdvanceTo(consumed);
                if (head.StatusCode >= 200)
                {
                    break;
                }
                head.Reset();
                continue;
            }
            if (failed || read.IsCompleted)
            {
                return new HttpCallResult(false, null, [], "bad response");
            }
            input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
        var body = new ArrayBufferWriter<byte>();
        var pump = new BodyPump();
        var sink = PipeWriter.Create(new BoundedStream(body, MaxResponseBodyBytes));
        PumpStatus status = await pump.PumpAsync(
            new BodyTransfer(input, head.Framing, head.ContentLength, MaxResponseBodyBytes, sink, ChunkedOut: false, IsRequest: false, new HeaderCollection())).ConfigureAwait(false);
        return status == PumpStatus.Completed
            ? new HttpCallResult(true, head, body.WrittenSpan.ToArray(), null)
            : new HttpCallResult(false, null, [], status == PumpStatus.TargetClosed ? "response body too large" : "bad response body");
    }

    private static bool TryParseHead(ReadOnlySequence<byte> buffer, bool isHead, HttpResponseHead head, out SequencePosition consumed, out bool failed)
    {
        var reader = new SequenceReader<byte>(buffer);
        ParseStatus status = ResponseHeadParser.TryParse(ref reader, ResponseLimits, isHead, head, out _);
        consumed = reader.Position;
        failed = status == ParseStatus.Rejected;
        return status == ParseStatus.Complete;
    }

    /// <summary>A write-only stream into a buffer that refuses to grow past a bound.</summary>
    private sealed class BoundedStream(ArrayBufferWriter<byte> target, int limit) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => target.WrittenCount;
        public override long Position { get => target.WrittenCount; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (target.WrittenCount + buffer.Length > limit)
            {
                throw new IOException("response body over the http call limit");
            }
            target.Write(buffer);
        }
    }
}
