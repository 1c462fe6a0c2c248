using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Gateway.Http;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// <c>proxy_http_call</c> toward configured clusters: one request, the whole response (head and a bounded body)
/// collected and handed back. Callouts keep their own keep-alive connections, per endpoint
/// (<see cref="CalloutConnectionPool"/>), apart from the workers' pools: each of those is owned by its worker's thread,
/// while a callout completes off it; the plugin host posts the completion to the worker. So a plugin that calls an
/// external-auth service on every request pays a connect (and a TLS handshake) only when no idle connection is left.
/// A cluster's <c>tls</c> applies as on the proxy path. One instance serves one configuration; a cluster the next
/// configuration leaves unchanged keeps its connections in the next instance (<see cref="CalloutPools"/>), so a
/// reload costs its callouts no connect. Disposing it closes the idle connections of the clusters no later instance
/// took, while calls in flight finish on theirs.
/// </summary>
public sealed class ClusterHttpCalls : IHttpCallDispatcher, IDisposable
{
    private const int MaxResponseBodyBytes = 1024 * 1024;

    /// <summary>
    /// Idle connections kept per endpoint. A callout holds its connection for one round trip, so the idle set only has
    /// to cover the calls that overlap in a burst; connections a larger burst opened are closed after use rather than
    /// held open against a service whose connection limit its other clients share.
    /// </summary>
    public const int MaxIdleConnectionsPerEndpoint = 16;

    private static readonly HttpLimits ResponseLimits = new() { MaxHeaderBytes = 65536, MaxHeaderCount = 200, MaxBodyBytes = MaxResponseBodyBytes };

    private static readonly HttpCallResult TimedOut = new(false, null, [], "timeout");
    private static readonly HttpCallResult Reset = new(false, null, [], "upstream unreachable or reset");
    private static readonly HttpCallResult BadResponse = new(false, null, [], "bad response");
    private static readonly HttpCallResult HandshakeFailed = new(false, null, [], "upstream TLS handshake failed");

    private readonly Dictionary<string, Target> _targets = new(StringComparer.Ordinal);
    // Closes connections idle past their cluster's timeout, so an idle gateway does not hold them open either.
    private readonly Timer? _sweep;

    /// <param name="clusters">This configuration's clusters.</param>
    /// <param name="previous">
    /// The running configuration's client, on a reload: each cluster whose options are equal to its cluster of the same
    /// name shares that cluster's connections, while it still holds them too.
    /// </param>
    public ClusterHttpCalls(IReadOnlyList<ClusterOptions> clusters, ClusterHttpCalls? previous = null)
    {
        int sweepMs = int.MaxValue;
        for (int i = 0; i < clusters.Count; i++)
        {
            CalloutPools pools = previous?.TryHoldPools(clusters[i])
                ?? new CalloutPools(clusters[i].Endpoints.Count, MaxIdleConnectionsPerEndpoint, clusters[i].PooledIdleTimeoutMs);
            _targets[clusters[i].Name] = new Target(new Cluster(i, clusters[i]), pools);
            sweepMs = Math.Min(sweepMs, clusters[i].PooledIdleTimeoutMs);
        }
        if (_targets.Count > 0)
        {
            _sweep = new Timer(static s => ((ClusterHttpCalls)s!).CloseExpired(), this, sweepMs, sweepMs);
        }
    }

    public bool HasCluster(string cluster) => _targets.ContainsKey(cluster);

    /// <summary>
    /// The pools of the cluster named as <paramref name="options"/>'s, held for the next configuration, when its options
    /// are equal (<see cref="ClusterOptions.Equals(ClusterOptions?)"/>): the same endpoints in the same order, so a
    /// pool keeps its endpoint, the same TLS material, so a kept connection is one the next configuration would have
    /// opened, and the same idle timeout, which the pools apply. Null for a changed or new cluster.
    /// </summary>
    private CalloutPools? TryHoldPools(ClusterOptions options) =>
        _targets.TryGetValue(options.Name, out var target) && target.Cluster.Options.Equals(options) && target.Pools.TryHold()
            ? target.Pools
            : null;

    public void Send(string cluster, HttpRequestHead request, ReadOnlyMemory<byte> body, TimeSpan timeout, Action<HttpCallResult> onComplete)
    {
        if (!_targets.TryGetValue(cluster, out var target))
        {
            onComplete(new HttpCallResult(false, null, [], "unknown cluster"));
            return;
        }
        _ = SendAsync(target, request, body, timeout, onComplete);
    }

    /// <summary>
    /// The call on an idle connection of the endpoint picked, or a new one, all within the call's timeout. A reused
    /// connection that ends before any byte of a response was most likely closed by the server while idle, as the
    /// request crossed its FIN; the request is then sent once more on a new connection when it may be repeated (KA-7):
    /// its method is idempotent, and its head and body are held whole in memory, so it goes again exactly as it was.
    /// Any other request fails as it did: the server may have acted on it before closing. A FIN that arrived while the
    /// connection sat idle is seen before anything is sent (<see cref="CalloutConnection.IsStale"/>), so that race is rare.
    /// </summary>
    private static async Task SendAsync(Target target, HttpRequestHead request, ReadOnlyMemory<byte> body, TimeSpan timeout, Action<HttpCallResult> onComplete)
    {
        HttpCallResult result;
        using var deadline = new CancellationTokenSource(timeout);
        UpstreamEndpoint endpoint = target.Cluster.PickShared(ref target.Cursor, null);
        if (request.Authority.Length == 0)
        {
            request.Authority = endpoint.HostHeader;
        }
        CalloutConnectionPool pool = target.Pools[endpoint.Index];
        CalloutConnection? connection = pool.Take();
        bool reused = connection is not null;
        try
        {
            while (true)
            {
                connection ??= await CalloutConnection.OpenAsync(target.Cluster, endpoint, deadline.Token).ConfigureAwait(false);
                if (connection is null)
                {
                    result = HandshakeFailed;
                    break;
                }
                Exchange exchange = await ExchangeAsync(connection, request, body, deadline.Token).ConfigureAwait(false);
                if (exchange.End == ExchangeEnd.Unanswered && reused && IsIdempotent(request.Method))
                {
                    connection.Dispose();
                    connection = null;
                    reused = false;
                    continue;
                }
                result = exchange.Result;
                if (exchange.End == ExchangeEnd.Reusable)
                {
                    pool.Return(connection);
                    connection = null;
                }
                break;
            }
        }
        catch (OperationCanceledException)
        {
            result = TimedOut;
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            result = Reset;
        }
        finally
        {
            connection?.Dispose();
        }
        onComplete(result);
    }

    /// <summary>The methods KA-7 lets the gateway repeat; a callout's method is the plugin's string, compared as sent.</summary>
    private static bool IsIdempotent(string method) => method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";

    /// <summary>Sends the request on <paramref name="connection"/> and reads the response to its end.</summary>
    private static async Task<Exchange> ExchangeAsync(CalloutConnection connection, HttpRequestHead request, ReadOnlyMemory<byte> body, CancellationToken deadline)
    {
        PipeWriter output = connection.Output;
        HeadWriter.WriteRequest(output, request, body.IsEmpty ? BodyFraming.None : BodyFraming.ContentLength, body.Length);
        output.Write(body.Span);
        try
        {
            await output.FlushAsync(deadline).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return new Exchange(Reset, ExchangeEnd.Unanswered);
        }
        return await ReadResponseAsync(connection, request.Method == "HEAD", deadline).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the final head (after any interim ones) and the body under its framing; the connection is reusable only
    /// when the response allows it and ended exactly where its framing says (KA-4). Until a first response byte arrives,
    /// a reset or the server's FIN is <see cref="ExchangeEnd.Unanswered"/>.
    /// </summary>
    private static async Task<Exchange> ReadResponseAsync(CalloutConnection connection, bool isHead, CancellationToken ct)
    {
        PipeReader input = connection.Input;
        var head = new HttpResponseHead();
        bool answered = false;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await connection.ReadAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!answered && e is SocketException or IOException)
            {
                return new Exchange(Reset, ExchangeEnd.Unanswered);
            }
            if (!answered && read.Buffer.IsEmpty && read.IsCompleted)
            {
                input.AdvanceTo(read.Buffer.End);
                return new Exchange(BadResponse, ExchangeEnd.Unanswered);
            }
            answered = true;
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
                return new Exchange(BadResponse, ExchangeEnd.Close);
            }
            input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
        var body = new ArrayBufferWriter<byte>();
        var pump = new BodyPump();
        var sink = PipeWriter.Create(new BoundedStream(body, MaxResponseBodyBytes));
        PumpStatus status;
        // The call's deadline covers the body as it does the head: a server that stalls after its head is cut off at
        // the timeout, its connection closed, rather than holding the call and the connection until it closes.
        using (connection.CancelReadsAt(ct))
        {
            status = await pump.PumpAsync(
                new BodyTransfer(input, head.Framing, head.ContentLength, MaxResponseBodyBytes, sink, ChunkedOut: false, IsRequest: false, new HeaderCollection())).ConfigureAwait(false);
        }
        if (status == PumpStatus.TimedOut)
        {
            return new Exchange(TimedOut, ExchangeEnd.Close);
        }
        if (status != PumpStatus.Completed)
        {
            return new Exchange(new HttpCallResult(false, null, [], status == PumpStatus.TargetClosed ? "response body too large" : "bad response body"), ExchangeEnd.Close);
        }
        bool reusable = head.KeepAlive && head.Framing != BodyFraming.CloseDelimited && connection.BeginIdle();
        return new Exchange(new HttpCallResult(true, head, body.WrittenSpan.ToArray(), null), reusable ? ExchangeEnd.Reusable : ExchangeEnd.Close);
    }

    private static bool TryParseHead(ReadOnlySequence<byte> buffer, bool isHead, HttpResponseHead head, out SequencePosition consumed, out bool failed)
    {
        var reader = new SequenceReader<byte>(buffer);
        ParseStatus status = ResponseHeadParser.TryParse(ref reader, ResponseLimits, isHead, head, out _);
        consumed = reader.Position;
        failed = status == ParseStatus.Rejected;
        return status == ParseStatus.Complete;
    }

    private void CloseExpired()
    {
        foreach (Target target in _targets.Values)
        {
            target.Pools.CloseExpired();
        }
    }

    /// <summary>
    /// Lets go of every cluster's pools: those no later configuration holds close their idle connections, and each one
    /// in use once its call ends; calls in flight complete. Pools a later configuration holds stay open with it.
    /// </summary>
    public void Dispose()
    {
        _sweep?.Dispose();
        foreach (Target target in _targets.Values)
        {
            target.Pools.Release();
        }
    }

    /// <summary>
    /// A cluster, the idle connections to each of its endpoints, and its own round-robin turn: with one turn for all
    /// clusters, calls that alternate between two clusters of two endpoints each went to one endpoint.
    /// </summary>
    private sealed class Target(Cluster cluster, CalloutPools pools)
    {
        public Cluster Cluster { get; } = cluster;

        public CalloutPools Pools { get; } = pools;

        /// <summary>Advanced by every worker that sends a call to this cluster, at once: see <see cref="Cluster.PickShared"/>.</summary>
        public int Cursor;
    }

    /// <summary>What became of the connection after one request on it.</summary>
    private enum ExchangeEnd
    {
        /// <summary>The response ended where its framing said and allowed keep-alive: the connection goes back to the pool.</summary>
        Reusable,
        /// <summary>Answered, but the connection cannot carry another request.</summary>
        Close,
        /// <summary>It failed or closed before any response byte: on a reused connection, a request that may be repeated goes again.</summary>
        Unanswered,
    }

    /// <summary>One request's outcome on one connection: the plugin's result, and what becomes of the connection.</summary>
    private readonly record struct Exchange(HttpCallResult Result, ExchangeEnd End);

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
