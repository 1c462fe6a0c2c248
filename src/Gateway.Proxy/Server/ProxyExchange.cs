using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Http.Paths;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Logging;
using Gateway.Proxy.Routing;
using Gateway.Proxy.Upstream;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy.Server;

/// <summary>
/// Proxies one request/response exchange, phase by phase: route → request plugins → upstream connect
/// (one retry for idempotent requests) → request head and body → response head (under the request
/// timeout) → response plugins → response body. Returns whether the client connection may carry another
/// request. One instance per connection, reused for every request on it.
/// </summary>
internal sealed class ProxyExchange : IDisposable
{
    private const int MaxInterimResponses = 8;

    private readonly ClientConnection _client;
    private readonly ProxyWorker _worker;
    private readonly ILogger _logger;
    private readonly HttpResponseHead _response = new();
    private bool _headRequest;
    private readonly BodyPump _requestPump = new();
    private readonly BodyPump _responsePump = new();
    private readonly HeaderCollection _requestTrailers = new();
    private readonly HeaderCollection _responseTrailers = new();
    private readonly AccessRecord _access = new();
    // Bytes of the last request that no body pump carried: a local answer's body, a tunnel's relayed bytes.
    private long _localResponseBytes;
    private long _tunnelRequestBytes;
    // The Upgrade protocols forwarded with this request (UP-1); null when it is not an upgrade the route allows.
    private string? _upgrade;
    private CancellationTokenSource _responseDeadline = new();
    // Made on first use: the request body a Higress plugin decides on before its head may go (docs/proxy-wasm.md, 'Stream control'). Never pauses
    // its writer; limits.maxBodyBytes bounds it.
    private Pipe? _heldBody;

    public ProxyExchange(ClientConnection client, ProxyWorker worker, ILogger logger)
    {
        _client = client;
        _worker = worker;
        _logger = logger;
    }

    /// <summary>What the access log line of the last request says; filled in as the exchange goes.</summary>
    public AccessRecord Access => _access;

    /// <summary>Body bytes the client sent with the last request (for a tunnel, what it relayed upstream).</summary>
    public long RequestBodyBytes => _requestPump.BytesRead + _tunnelRequestBytes;

    /// <summary>Body bytes written to the client for the last response, whoever produced them: the upstream (after plugins), a plugin's reply, the gateway's own error, a tunnel.</summary>
    public long ResponseBodyBytes => _responsePump.BytesWritten + _localResponseBytes;

    /// <summary>Starts the record of a request the connection answered before any exchange ran (a rejected head).</summary>
    public void RecordRejectedHead(int status, long responseBytes)
    {
        _access.Begin(Stopwatch.GetTimestamp());
        _access.Complete(null, status, 0);
        ResetCounts();
        _localResponseBytes = responseBytes;
    }

    private void ResetCounts()
    {
        _requestPump.ResetCount();
        _responsePump.ResetCount();
        _localResponseBytes = 0;
        _tunnelRequestBytes = 0;
    }

    // Pooled async frames: an exchange that waits on the network allocates no state machine per await.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> RunAsync(ProxySnapshot snapshot, HttpRequestHead request)
    {
        long started = Stopwatch.GetTimestamp();
        // The client's own method decides what it expects after the response head, whatever plugins do later.
        _headRequest = request.Method == "HEAD";
        _access.Begin(started);
        ResetCounts();
        _requestTrailers.Clear();
        _responseTrailers.Clear();
        bool bodyPending = request.Framing != BodyFraming.None;
        bool keepAlive = request.KeepAlive && request.MinorVersion >= 1;

        _upgrade = UpgradeRequest.Offered(request);
        if (!ForwardingHeaders.RemoveHopByHop(request.Headers))
        {
            snapshot.Metrics.Rejected(RequestRejection.InvalidHeaderValue);
            return await FinishLocalAsync(snapshot, null, started, 400, "invalid connection option", "", keepAlive: false);
        }
        // FW-3: the scheme is the one the client reached this listener with, never one named by an absolute-form target.
        request.Scheme = _client.Listener.Scheme;
        string requestId = ForwardingHeaders.AddRequestFields(request.Headers, _client.ForwardedFor, request.Scheme);
        _access.RequestId = requestId;
        // RL-7: routes, plugins and the upstream all see the normalized path.
        if (PathNormalizer.Normalize(request.Target, snapshot.Paths, out string target) == PathNormalizer.Result.EscapedSlash)
        {
            snapshot.Metrics.Rejected(RequestRejection.EscapedSlash);
            ProxyLog.RequestRejected(_logger, "request_path", nameof(RequestRejection.EscapedSlash), 400, _client.Remote?.ToString() ?? "");
            return await FinishLocalAsync(snapshot, null, started, 400, RequestRejections.Reason(RequestRejection.EscapedSlash), requestId, keepAlive && !bodyPending);
        }
        request.Target = target;

        Route? route = snapshot.Routes.Match(request.Authority, request.Path);
        if (route is null)
        {
            ProxyLog.NoRoute(_logger, request.Authority, requestId);
            return await FinishLocalAsync(snapshot, null, started, 404, "no route", requestId, keepAlive && !bodyPending);
        }
        _upgrade = UpgradeRequest.Allowed(_upgrade, route.Options.Upgrades);
        if (_upgrade is not null)
        {
            // Plugins see the upgrade request as Envoy shows it: with its Connection and Upgrade fields.
            UpgradeRequest.AddFields(request.Headers, _upgrade);
        }

        WorkerState state = _worker.Acquire(snapshot);
        PluginStream? filters = route.Plugins.Count > 0 && state.Plugins is not null
            ? state.Plugins.BeginStream(route.Plugins, new StreamInfo(route.Name, route.Cluster.Name, _client.Remote, _client.Local, requestId, "HTTP/1.1", _client.Tls))
            : null;
        RequestHold hold = RequestHold.None;
        try
        {
            if (filters is not null)
            {
                _access.Plugins = PluginOutcomes.Continue;
                FilterOutcome outcome = await PluginDeadline.WithinAsync(filters, filters.OnRequestHeadersAsync(request, endOfStream: !bodyPending), route.Cluster.Options.RequestTimeoutMs);
                // Ends: every pass either breaks or adds at least one plugin that was not in the chain.
                while (true)
                {
                    if (outcome.Action == FilterAction.HoldHeaders && hold == RequestHold.None)
                    {
                        // ABI §2.3 (0.2.100): a plugin decides on the body before the head may go. The body runs through the
                        // chain into memory until the plugins let data through, then the head leaves with what they changed.
                        hold = RequestHold.Receiving; // the finally below cleans up even if receiving throws
                        hold = await ReceiveHeldBodyAsync(snapshot, route, filters, request, requestId, started);
                        if (hold == RequestHold.Answered)
                        {
                            return false;
                        }
                    }
                    else if (outcome.Action is not (FilterAction.Continue or FilterAction.HoldHeaders))
                    {
                        return await FinishFilteredAsync(snapshot, route, started, outcome, "request_headers", requestId, keepAlive && !bodyPending);
                    }
                    // ABI §3.3 [POLICY]: changed request headers re-route the request, as in Envoy, unless the plugin kept the
                    // route cache. The chain already running finishes the exchange; the new route picks the cluster, and
                    // its plugins that have not run yet run now, so re-routing never steps around another route's checks.
                    if (!filters.RouteInvalidated)
                    {
                        break;
                    }
                    Route? rerouted = snapshot.Routes.Match(request.Authority, request.Path);
                    if (rerouted is null)
                    {
                        ProxyLog.NoRoute(_logger, request.Authority, requestId);
                        return await FinishLocalAsync(snapshot, route, started, 404, "no route", requestId, keepAlive && !bodyPending);
                    }
                    route = rerouted;
                    int added = state.Plugins!.ExtendStream(filters, route.Plugins);
                    if (added < 0)
                    {
                        break;
                    }
                    outcome = await PluginDeadline.WithinAsync(filters, filters.OnReroutedRequestHeadersAsync(added), route.Cluster.Options.RequestTimeoutMs);
                }
            }
            return await ForwardAsync(snapshot, route, state.Pools[route.Cluster.Index], filters, request, requestId, keepAlive, hold, started);
        }
        finally
        {
            filters?.Complete();
            state.Release();
            if (hold != RequestHold.None)
            {
                // A body still streaming when the exchange ended early (no route, no upstream) keeps no deadline running.
                _client.Watchdog.End();
                // Returns the held body's segments to the pool and readies the pipe for the connection's next request.
                _heldBody!.Reader.Complete();
                _heldBody.Writer.Complete();
                _heldBody.Reset();
            }
        }
    }

    /// <summary>Where a request whose head a plugin held (docs/proxy-wasm.md, 'Stream control') stands.</summary>
    private enum RequestHold
    {
        None,
        Receiving,
        /// <summary>The exchange already ended with an answer (413, 408, a plugin's reply...).</summary>
        Answered,
        /// <summary>The whole body passed the chain while the head was held; it is in <see cref="_heldBody"/>.</summary>
        WholeBody,
        /// <summary>
        /// The plugins let data through before the body ended: that data is in <see cref="_heldBody"/>, the rest still
        /// comes from the client, and the TO-2 deadline started for the body keeps running.
        /// </summary>
        BodyStarted,
    }

    /// <summary>
    /// Receives the request body through the plugin chain while a plugin holds the head (docs/proxy-wasm.md, 'Stream control'), into
    /// <see cref="_heldBody"/>, until the plugins let data through or the body ends.
    /// </summary>
    private async ValueTask<RequestHold> ReceiveHeldBodyAsync(
        ProxySnapshot snapshot, Route route, PluginStream filters, HttpRequestHead request, string requestId, long started)
    {
        _heldBody ??= new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        if (request.ExpectContinue)
        {
            // EX-3: the body is wanted now, for the plugins.
            _client.Output.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
            await _client.FlushAsync();
        }
        TransferWatchdog watch = _client.Watchdog;
        // TO-2 covers the whole body, also the part streamed after a release; the watchdog then still names this pipe as
        // the upstream side, so its expiry ends the transfer through the client read only.
        watch.BeginRequestBody(snapshot.Limits, _heldBody.Writer);
        PumpStatus received = PumpStatus.SourceClosed;
        try
        {
            // The chunked decoder enforces limits.maxBodyBytes (413); a declared length above it never got here.
            received = await _requestPump.PumpAsync(
                _client.Input, request.Framing, request.ContentLength, snapshot.Limits.MaxBodyBytes,
                _heldBody.Writer, chunkedOut: false, filters, isRequest: true, _requestTrailers,
                route.Cluster.Options.RequestTimeoutMs, watch, untilHeadReleased: true);
        }
        finally
        {
            if (received != PumpStatus.HeadReleased)
            {
                watch.End();
            }
        }
        if (watch.Expired != ClientTimeout.None)
        {
            received = PumpStatus.TimedOut;
        }
        switch (received)
        {
            case PumpStatus.HeadReleased:
                return RequestHold.BodyStarted;
            case PumpStatus.Completed:
                // A plugin that kept the headers past the end of the body (it took every byte, result 3) cannot release
                // them any more: the head goes with what came out of the chain.
                return RequestHold.WholeBody;
            default:
                await FailRequestBodyAsync(snapshot, route, started, received, requestId);
                return RequestHold.Answered;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardAsync(
        ProxySnapshot snapshot, Route route, UpstreamPool pool, PluginStream? filters, HttpRequestHead request,
        string requestId, bool keepAlive, RequestHold hold, long started)
    {
        bool bodyPending = request.Framing != BodyFraming.None;
        bool idempotent = request.Method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";
        bool filterBody = filters is not null && filters.InspectsRequestBody && bodyPending && hold == RequestHold.None;
        UpstreamEndpoint? avoid = null;

        for (int attempt = 0; ; attempt++)
        {
            var (upstream, tried, error) = await pool.AcquireAsync(avoid);
            if (upstream is null)
            {
                snapshot.Metrics.UpstreamFailed(route.Cluster.Index, error);
                // KA-7: a connect failure sent nothing, so an idempotent request may try another endpoint once.
                if (attempt == 0 && idempotent && error is UpstreamError.ConnectRefused or UpstreamError.ConnectTimeout)
                {
                    avoid = tried;
                    continue;
                }
                return await FinishUpstreamErrorAsync(snapshot, route, started, error, "connect", "", requestId, keepAlive && !bodyPending);
            }

            _access.Upstream = upstream.Endpoint.HostHeader;
            bool reused = upstream.RequestCount > 0;
            upstream.RequestCount++;
            upstream.Endpoint.BeginRequest();
            try
            {
                ExchangeResult result = await ExchangeAsync(snapshot, route, pool, upstream, filters, request, requestId, keepAlive, filterBody, hold, started);
                // A wholly held body is still in memory, so it can be sent again.
                if (result == ExchangeResult.RetryOnFreshConnection && attempt == 0 && idempotent && reused && (!bodyPending || hold == RequestHold.WholeBody))
                {
                    continue;
                }
                if (result == ExchangeResult.RetryOnFreshConnection)
                {
                    snapshot.Metrics.UpstreamFailed(route.Cluster.Index, UpstreamError.Reset);
                    pool.ReportFailure(upstream.Endpoint);
                    return await FinishUpstreamErrorAsync(snapshot, route, started, UpstreamError.Reset, "response_head", upstream.Endpoint.HostHeader, requestId, keepAlive && !bodyPending);
                }
                return result == ExchangeResult.KeepAlive;
            }
            finally
            {
                upstream.Endpoint.EndRequest();
            }
        }
    }

    private enum ExchangeResult
    {
        KeepAlive,
        Close,
        RetryOnFreshConnection,
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ExchangeResult> ExchangeAsync(
        ProxySnapshot snapshot, Route route, UpstreamPool pool, UpstreamConnection upstream, PluginStream? filters,
        HttpRequestHead request, string requestId, bool keepAlive, bool filterBody, RequestHold hold, long started)
    {
        bool bodyPending = request.Framing != BodyFraming.None;
        BodyFraming upstreamFraming = filterBody ? BodyFraming.Chunked : request.Framing;
        if (hold != RequestHold.None)
        {
            // What the plugins let through while they held the head; an empty pipe has no read to complete.
            bool any = _heldBody!.Reader.TryRead(out ReadResult held);
            if (hold == RequestHold.BodyStarted)
            {
                // The head goes with the first data the plugins let through; the rest streams through the chain.
                HeadWriter.WriteRequest(upstream.Output, request, BodyFraming.Chunked, 0);
                HeadWriter.WriteChunk(upstream.Output, held.Buffer);
            }
            else
            {
                // The whole filtered body is known: it goes with its length.
                HeadWriter.WriteRequest(upstream.Output, request, BodyFraming.ContentLength, held.Buffer.Length);
                foreach (ReadOnlyMemory<byte> segment in held.Buffer)
                {
                    upstream.Output.Write(segment.Span);
                }
            }
            if (any)
            {
                // A whole body stays in the pipe for a retry on a fresh connection; a started one is sent once.
                _heldBody.Reader.AdvanceTo(hold == RequestHold.WholeBody ? held.Buffer.Start : held.Buffer.End);
            }
        }
        else
        {
            HeadWriter.WriteRequest(upstream.Output, request, upstreamFraming, request.ContentLength);
        }

        if (bodyPending && hold != RequestHold.WholeBody)
        {
            if (request.ExpectContinue && hold == RequestHold.None)
            {
                // EX-3: the gateway owns the expectation; it has routed and filtered, so it asks for the body now.
                _client.Output.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
                await _client.FlushAsync();
            }
            TransferWatchdog watch = _client.Watchdog;
            if (hold == RequestHold.None)
            {
                // A body released by a plugin keeps the deadline it started with: TO-2 counts from the end of the head.
                watch.BeginRequestBody(snapshot.Limits, upstream.Output);
            }
            PumpStatus sent;
            try
            {
                sent = hold == RequestHold.BodyStarted
                    ? await _requestPump.ResumeAsync(_client.Input, request.Framing, request.ContentLength, snapshot.Limits.MaxBodyBytes, upstream.Output, filters!, _requestTrailers)
                    : await _requestPump.PumpAsync(
                        _client.Input, request.Framing, request.ContentLength, snapshot.Limits.MaxBodyBytes,
                        upstream.Output, upstreamFraming == BodyFraming.Chunked, filterBody ? filters : null, isRequest: true, _requestTrailers,
                        route.Cluster.Options.RequestTimeoutMs, watch);
            }
            finally
            {
                // Before the upstream connection can be released: no tick may cancel a write on it afterwards.
                watch.End();
            }
            if (watch.Expired != ClientTimeout.None)
            {
                // A deadline that expired as the last bytes arrived still ends the exchange: its cancellation
                // may be pending on a pipe that would otherwise carry the next request.
                sent = PumpStatus.TimedOut;
            }
            if (sent != PumpStatus.Completed)
            {
                // CH-9 / CL-7: the upstream must never see a complete request, so its connection is dropped.
                pool.Release(upstream, reusable: false);
                await FailRequestBodyAsync(snapshot, route, started, sent, requestId);
                return ExchangeResult.Close;
            }
        }
        else
        {
            try
            {
                FlushResult flushed = await upstream.Output.FlushAsync();
                if (flushed.IsCompleted)
                {
                    pool.Release(upstream, reusable: false);
                    return ExchangeResult.RetryOnFreshConnection;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                pool.Release(upstream, reusable: false);
                return ExchangeResult.RetryOnFreshConnection;
            }
        }

        ResponseHeadStatus head = await ReadResponseHeadAsync(upstream, route.Cluster.Options.RequestTimeoutMs, request.Method == "HEAD");
        if (head != ResponseHeadStatus.Parsed)
        {
            pool.Release(upstream, reusable: false);
            if (head == ResponseHeadStatus.ClosedBeforeResponse)
            {
                return ExchangeResult.RetryOnFreshConnection;
            }
            UpstreamError error = head == ResponseHeadStatus.TimedOut ? UpstreamError.ResponseTimeout : UpstreamError.BadResponse;
            snapshot.Metrics.UpstreamFailed(route.Cluster.Index, error);
            return await FinishUpstreamErrorAsync(snapshot, route, started, error, "response_head", upstream.Endpoint.HostHeader, requestId, keepAlive)
                ? ExchangeResult.KeepAlive : ExchangeResult.Close;
        }
        upstream.Endpoint.ReportSuccess();
        string? switchedTo = null;
        if (_response.StatusCode == 101 && !UpgradeRequest.Accepts(_response, _upgrade!, out switchedTo))
        {
            // UP-4: a switch to a protocol the client never offered is a bad response.
            pool.Release(upstream, reusable: false);
            snapshot.Metrics.UpstreamFailed(route.Cluster.Index, UpstreamError.BadResponse);
            await FinishUpstreamErrorAsync(snapshot, route, started, UpstreamError.BadResponse, "upgrade", upstream.Endpoint.HostHeader, requestId, keepAlive: false);
            return ExchangeResult.Close;
        }

        bool responseBodyPending = _response.Framing != BodyFraming.None;
        ForwardingHeaders.CleanResponse(_response.Headers);
        bool headHeld = false;
        if (filters is not null)
        {
            FilterOutcome outcome = await PluginDeadline.WithinAsync(filters, filters.OnResponseHeadersAsync(_response, endOfStream: !responseBodyPending), route.Cluster.Options.RequestTimeoutMs);
            // docs/proxy-wasm.md, 'Stream control' (0.2.100): a held response head goes with the first body bytes the plugins let through.
            headHeld = outcome.Action == FilterAction.HoldHeaders;
            if (outcome.Action != FilterAction.Continue && !headHeld)
            {
                pool.Release(upstream, reusable: false);
                return await FinishFilteredAsync(snapshot, route, started, outcome, "response_headers", requestId, keepAlive)
                    ? ExchangeResult.KeepAlive : ExchangeResult.Close;
            }
        }

        if (switchedTo is not null)
        {
            return await TunnelAsync(snapshot, route, pool, upstream, switchedTo, started);
        }

        bool filterResponseBody = filters is not null && (filters.InspectsResponseBody || headHeld) && responseBodyPending;
        bool http10Client = request.MinorVersion == 0;
        BodyFraming clientFraming = _response.Framing switch
        {
            BodyFraming.ContentLength when !filterResponseBody => BodyFraming.ContentLength,
            BodyFraming.None => BodyFraming.None,
            // RS-5: unknown length goes chunked to HTTP/1.1 clients and close-delimited to HTTP/1.0 ones.
            _ => http10Client ? BodyFraming.CloseDelimited : BodyFraming.Chunked,
        };
        bool clientKeepAlive = keepAlive && clientFraming != BodyFraming.CloseDelimited && !_client.Server.IsDraining;
        HeldResponseHead? heldHead = null;
        if (headHeld)
        {
            // What the plugins hold before releasing the head is bounded like a request body; over it Envoy answers 500.
            heldHead = new HeldResponseHead(_response, clientFraming, !clientKeepAlive, snapshot.Limits.MaxBodyBytes);
        }
        else
        {
            long length = clientFraming == BodyFraming.None
                ? BodilessLength.Of(_response.StatusCode, _headRequest, _response.ContentLength)
                : _response.ContentLength;
            HeadWriter.WriteResponse(_client.Output, _response, clientFraming, length, close: !clientKeepAlive);
        }

        PumpStatus received = PumpStatus.Completed;
        if (responseBodyPending)
        {
            TransferWatchdog watch = _client.Watchdog;
            watch.BeginResponse(snapshot.Limits);
            try
            {
                received = await _responsePump.PumpAsync(
                    upstream.Input, _response.Framing, _response.ContentLength, long.MaxValue,
                    _client.Output, clientFraming == BodyFraming.Chunked, filterResponseBody ? filters : null, isRequest: false, _responseTrailers,
                    route.Cluster.Options.RequestTimeoutMs, watch, heldHead);
            }
            finally
            {
                watch.End();
            }
            if (watch.Expired != ClientTimeout.None)
            {
                // As for the request body: an expiry that raced the last write still ends the connection.
                received = PumpStatus.TimedOut;
            }
            if (received != PumpStatus.Completed && _responsePump.HeadPending)
            {
                // Nothing of the response reached the client yet, so it still gets a whole answer.
                pool.Release(upstream, reusable: false);
                return await FailHeldResponseAsync(snapshot, route, upstream, started, received, requestId) ? ExchangeResult.KeepAlive : ExchangeResult.Close;
            }
        }
        else if (!await _client.FlushAsync())
        {
            received = PumpStatus.TargetClosed;
        }

        if (received != PumpStatus.Completed)
        {
            // RS-4: a truncated upstream body is not completed toward the client: no last chunk, close.
            pool.Release(upstream, reusable: false);
            UpstreamError error = received == PumpStatus.SourceInvalid ? UpstreamError.BadResponse : UpstreamError.Reset;
            if (received == PumpStatus.TimedOut)
            {
                // TO-4: the client stopped reading; its connection is reset and the upstream one closed above.
                snapshot.Metrics.ClientTimedOut(ClientTimeout.ResponseWrite);
                ProxyLog.ClientTimedOut(_logger, route.Name, "response_body", ClientTimeouts.Label(ClientTimeout.ResponseWrite), _response.StatusCode, _client.Remote?.ToString() ?? "", requestId);
            }
            else if (received != PumpStatus.TargetClosed)
            {
                snapshot.Metrics.UpstreamFailed(route.Cluster.Index, error);
                ProxyLog.UpstreamFailed(_logger, route.Name, route.Cluster.Name, "response_body", UpstreamErrors.Label(error), _response.StatusCode, upstream.Endpoint.HostHeader, requestId);
            }
            Completed(snapshot, route.Index, _response.StatusCode, Stopwatch.GetElapsedTime(started).Ticks);
            return ExchangeResult.Close;
        }

        // KA-4: reuse only a connection whose exchange ended exactly at the response's framing.
        bool reusable = _response.KeepAlive && _response.Framing != BodyFraming.CloseDelimited && !HasExtraBytes(upstream);
        pool.Release(upstream, reusable);
        Completed(snapshot, route.Index, _response.StatusCode, Stopwatch.GetElapsedTime(started).Ticks);
        return clientKeepAlive ? ExchangeResult.KeepAlive : ExchangeResult.Close;
    }

    private enum ResponseHeadStatus
    {
        Parsed,
        ClosedBeforeResponse,
        TimedOut,
        Invalid,
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ResponseHeadStatus> ReadResponseHeadAsync(UpstreamConnection upstream, int timeoutMs, bool requestWasHead)
    {
        if (!_responseDeadline.TryReset())
        {
            _responseDeadline.Dispose();
            _responseDeadline = new CancellationTokenSource();
        }
        _responseDeadline.CancelAfter(timeoutMs);
        int interim = 0;
        PipeReader input = upstream.Input;
        // The first read may be the one the pooled connection kept pending while idle, which no token reaches.
        CancellationTokenRegistration deadline = _responseDeadline.Token.UnsafeRegister(static s => ((PipeReader)s!).CancelPendingRead(), input);
        try
        {
            while (true)
            {
                _response.Reset();
                while (true)
                {
                    ReadResult read = await upstream.ReadAsync();
                    var buffer = read.Buffer;
                    if (read.IsCanceled)
                    {
                        input.AdvanceTo(buffer.Start);
                        return ResponseHeadStatus.TimedOut;
                    }
                    var reader = new System.Buffers.SequenceReader<byte>(buffer);
                    ParseStatus status = ResponseHeadParser.TryParse(ref reader, _client.Server.UpstreamLimits, requestWasHead, _response, out _);
                    if (status == ParseStatus.Complete)
                    {
                        input.AdvanceTo(reader.Position);
                        break;
                    }
                    if (status == ParseStatus.Rejected)
                    {
                        input.AdvanceTo(buffer.End);
                        return ResponseHeadStatus.Invalid;
                    }
                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (read.IsCompleted)
                    {
                        return buffer.IsEmpty ? ResponseHeadStatus.ClosedBeforeResponse : ResponseHeadStatus.Invalid;
                    }
                }
                if (_response.StatusCode >= 200)
                {
                    // A deadline that fired as the head arrived may have left a cancellation on the reader: the
                    // connection is not read again, and the exchange ends as a timeout.
                    return _responseDeadline.IsCancellationRequested ? ResponseHeadStatus.TimedOut : ResponseHeadStatus.Parsed;
                }
                // RS-8 / UP-4: interim responses are absorbed (the gateway answered any 100 itself);
                // a 101 nobody asked for is a bad response.
                if (_response.StatusCode == 101 && _upgrade is not null)
                {
                    return ResponseHeadStatus.Parsed; // UP-3: the switch; its protocol is checked by the caller
                }
                if (_response.StatusCode == 101 || ++interim > MaxInterimResponses)
                {
                    return ResponseHeadStatus.Invalid;
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            return ResponseHeadStatus.ClosedBeforeResponse;
        }
        finally
        {
            deadline.Dispose();
            _responseDeadline.CancelAfter(Timeout.Infinite);
        }
    }

    private static bool HasExtraBytes(UpstreamConnection upstream)
    {
        // KA-5 / RS-6: bytes beyond the response's end mean the upstream and the gateway disagree on framing.
        if (upstream.Input.TryRead(out ReadResult read))
        {
            bool extra = !read.Buffer.IsEmpty || read.IsCompleted;
            upstream.Input.AdvanceTo(read.Buffer.Start);
            return extra;
        }
        return false;
    }

    /// <summary>Answers a request whose response body failed while a plugin still held the response head (docs/proxy-wasm.md, 'Stream control').</summary>
    private async ValueTask<bool> FailHeldResponseAsync(
        ProxySnapshot snapshot, Route route, UpstreamConnection upstream, long started, PumpStatus status, string requestId)
    {
        switch (status)
        {
            case PumpStatus.Filtered:
                return await FinishFilteredAsync(snapshot, route, started, _responsePump.Outcome, "response_body", requestId, keepAlive: false);
            case PumpStatus.HeldTooLarge:
                ProxyLog.HeldBodyTooLarge(_logger, "response", route.Name, 500, requestId);
                return await FinishLocalAsync(snapshot, route, started, 500, "response body held by a plugin exceeds limits.maxBodyBytes", requestId, keepAlive: false);
            case PumpStatus.TargetClosed or PumpStatus.TimedOut:
                Completed(snapshot, route.Index, _response.StatusCode, Stopwatch.GetElapsedTime(started).Ticks);
                return false;
            default:
                UpstreamError error = status == PumpStatus.SourceInvalid ? UpstreamError.BadResponse : UpstreamError.Reset;
                snapshot.Metrics.UpstreamFailed(route.Cluster.Index, error);
                await FinishUpstreamErrorAsync(snapshot, route, started, error, "response_body", upstream.Endpoint.HostHeader, requestId, keepAlive: false);
                return false;
        }
    }

    /// <summary>Answers a request whose body could not be forwarded; the connection always closes afterwards.</summary>
    private async ValueTask FailRequestBodyAsync(ProxySnapshot snapshot, Route route, long started, PumpStatus status, string requestId)
    {
        if (status == PumpStatus.Filtered)
        {
            await FinishFilteredAsync(snapshot, route, started, _requestPump.Outcome, "request_body", requestId, keepAlive: false);
            return;
        }
        if (status == PumpStatus.TimedOut)
        {
            // TO-2: the upstream connection is already closed; 408 (nothing of the response has started), then close.
            ClientTimeout timeout = _client.Watchdog.Expired;
            snapshot.Metrics.ClientTimedOut(timeout);
            ProxyLog.ClientTimedOut(_logger, route.Name, "request_body", ClientTimeouts.Label(timeout), 408, _client.Remote?.ToString() ?? "", requestId);
            await FinishLocalAsync(snapshot, route, started, 408, "request body not received in time", requestId, keepAlive: false);
            return;
        }
        (int code, string cause) = status switch
        {
            PumpStatus.SourceInvalid => (RequestRejections.StatusCode(_requestPump.Rejection), RequestRejections.Reason(_requestPump.Rejection)),
            PumpStatus.TargetClosed => (502, "upstream closed while receiving the request body"),
            _ => (400, "request body incomplete"),
        };
        if (status == PumpStatus.SourceInvalid)
        {
            snapshot.Metrics.Rejected(_requestPump.Rejection);
        }
        ProxyLog.ClientBodyFailed(_logger, route.Name, cause, requestId);
        if (status == PumpStatus.SourceClosed)
        {
            // The client is gone: nobody to answer.
            Completed(snapshot, route.Index, 400, Stopwatch.GetElapsedTime(started).Ticks);
            return;
        }
        await FinishLocalAsync(snapshot, route, started, code, cause, requestId, keepAlive: false);
    }

    private async ValueTask<bool> FinishUpstreamErrorAsync(
        ProxySnapshot snapshot, Route route, long started, UpstreamError error, string stage, string endpoint, string requestId, bool keepAlive)
    {
        int status = UpstreamErrors.StatusCode(error);
        ProxyLog.UpstreamFailed(_logger, route.Name, route.Cluster.Name, stage, UpstreamErrors.Label(error), status, endpoint, requestId);
        return await FinishLocalAsync(snapshot, route, started, status, UpstreamErrors.Label(error), requestId, keepAlive);
    }

    private async ValueTask<bool> FinishFilteredAsync(
        ProxySnapshot snapshot, Route route, long started, FilterOutcome outcome, string stage, string requestId, bool keepAlive)
    {
        switch (outcome.Action)
        {
            case FilterAction.LocalReply when outcome.Reply is { } reply:
                _access.Plugins = PluginOutcomes.LocalReply;
                bool close = !keepAlive || _client.Server.IsDraining;
                _localResponseBytes = LocalResponse.WriteReply(_client.Output, reply.StatusCode, reply.Headers, reply.Body.Span, close, _headRequest);
                Completed(snapshot, route.Index, reply.StatusCode, Stopwatch.GetElapsedTime(started).Ticks);
                return await _client.FlushAsync() && !close;
            case FilterAction.Failed:
                _access.Plugins = PluginOutcomes.Failed;
                ProxyLog.PluginFailed(_logger, route.Name, stage, requestId);
                return await FinishLocalAsync(snapshot, route, started, 500, "plugin failure", requestId, keepAlive);
            default:
                // Reset: the plugin closed the stream; the client sees the connection end.
                _access.Plugins = PluginOutcomes.Reset;
                Completed(snapshot, route.Index, 500, Stopwatch.GetElapsedTime(started).Ticks);
                return false;
        }
    }

    private async ValueTask<bool> FinishLocalAsync(
        ProxySnapshot snapshot, Route? route, long started, int status, string message, string requestId, bool keepAlive)
    {
        bool close = !keepAlive || _client.Server.IsDraining;
        _localResponseBytes = LocalResponse.WriteError(_client.Output, status, message, requestId, close, _headRequest);
        Completed(snapshot, route?.Index ?? -1, status, Stopwatch.GetElapsedTime(started).Ticks);
        return await _client.FlushAsync() && !close;
    }

    /// <summary>
    /// UP-5: after a 101 the connection pair relays opaque bytes both ways until either side closes or the tunnel
    /// idles past limits.tunnelIdleTimeoutMs; neither connection carries HTTP again.
    /// </summary>
    private async ValueTask<ExchangeResult> TunnelAsync(
        ProxySnapshot snapshot, Route route, UpstreamPool pool, UpstreamConnection upstream, string protocol, long started)
    {
        UpgradeRequest.AddResponseFields(_response, protocol);
        HeadWriter.WriteResponse(_client.Output, _response, BodyFraming.None, 0, close: false);
        EdgeMetrics metrics = _client.Server.EdgeMetrics;
        var tunnel = new Tunnel();
        TunnelEnd end = TunnelEnd.ClientClosed;
        bool opened = false;
        try
        {
            if (await _client.FlushAsync())
            {
                opened = true;
                metrics.TunnelOpened();
                end = await tunnel.RunAsync(_client.Input, _client.Output, upstream.Input, upstream.Output, snapshot.Limits.TunnelIdleTimeoutMs);
            }
        }
        finally
        {
            pool.Release(upstream, reusable: false);
            if (opened)
            {
                metrics.TunnelClosed(end, tunnel.BytesUpstream, tunnel.BytesDownstream);
                _tunnelRequestBytes = tunnel.BytesUpstream;
                _localResponseBytes = tunnel.BytesDownstream;
            }
            Completed(snapshot, route.Index, 101, Stopwatch.GetElapsedTime(started).Ticks);
        }
        if (end == TunnelEnd.IdleTimeout)
        {
            EdgeLog.TunnelIdleTimeout(_logger, route.Name, upstream.Endpoint.HostHeader, _access.RequestId);
        }
        return ExchangeResult.Close;
    }

    /// <summary>Every request ends here once: its metrics and its access log record.</summary>
    private void Completed(ProxySnapshot snapshot, int routeIndex, int status, long elapsedTicks)
    {
        snapshot.Metrics.RequestCompleted(routeIndex, status, elapsedTicks);
        _access.Complete(routeIndex < 0 ? null : snapshot.Routes.Routes[routeIndex].Name, status, elapsedTicks);
    }

    public void Dispose() => _responseDeadline.Dispose();
}
