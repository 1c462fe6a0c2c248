using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Gateway.Http.Async;
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
/// Proxies one request/response exchange, phase by phase: (1) route, (2) request plugins, (3) upstream connect (one
/// retry for idempotent requests), (4) request head and body, (5) response head under the request timeout, (6) response
/// plugins, (7) response body. A failed phase records an <see cref="ExchangeError"/> in the <see cref="ExchangeState"/>
/// and returns; every request ends in <see cref="ExchangeCompletion"/>, which answers, counts and logs it once. A held
/// head (Higress) is handled by <see cref="HeldRequestBody"/> and <see cref="HeldResponseHead"/>. One instance per
/// connection. Its pooled steps are awaited without the captured context: they end on the worker (WorkerLoop.EnsureCurrent).
/// </summary>
internal sealed partial class ProxyExchange : IDisposable
{
    private readonly ClientConnection _client;
    private readonly ProxyWorker _worker;
    private readonly ILogger _logger;
    private readonly ExchangeState _state;
    private readonly ExchangeCompletion _completion;
    private readonly BodyPump _requestPump = new();
    private readonly BodyPump _responsePump = new();
    private readonly ResponseHeadReader _responseHead;
    private readonly HeldRequestBody _heldBody = new();
    private readonly HeldResponseHead _heldHead = new();
    // Phase 3 of the current request: attempts made after the first, and the endpoint a retry avoids.
    private int _attempt;
    private UpstreamEndpoint? _avoid;

    public ProxyExchange(ClientConnection client, ExchangeState state, ProxyWorker worker, ILogger logger)
    {
        _client = client;
        _state = state;
        _worker = worker;
        _logger = logger;
        _completion = new ExchangeCompletion(client, state, logger);
        _responseHead = new ResponseHeadReader(worker.Loop.Deadlines);
    }

    /// <summary>Body bytes the client sent with the last request (for a tunnel, what it relayed upstream).</summary>
    private long RequestBodyBytes => _requestPump.BytesRead + _state.TunnelRequestBytes;

    /// <summary>Body bytes written to the client for the last response, whoever produced them: the upstream (after plugins), a plugin's reply, the gateway's own error, a tunnel.</summary>
    private long ResponseBodyBytes => _responsePump.BytesWritten + _state.LocalResponseBytes;

    /// <summary>Answers a request whose head the connection refused (a parse error, TO-1), through the same exit as every other.</summary>
    public async ValueTask RejectHeadAsync(ProxySnapshot snapshot, ExchangeError error)
    {
        Begin(snapshot, headRequest: false, keepAlive: false, hasBody: false);
        _state.Fail(error);
        try
        {
            await _completion.FinishAsync();
        }
        finally
        {
            _completion.WriteAccessLine(RequestBodyBytes, ResponseBodyBytes);
        }
    }

    /// <summary>Proxies the request the connection parsed into the state; returns whether the connection may carry another.</summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    public async ValueTask<bool> RunAsync(ProxySnapshot snapshot)
    {
        ExchangeState s = _state;
        HttpRequestHead request = s.Request;
        // The client's own method decides what it expects after the response head, whatever plugins do later.
        Begin(snapshot, request.Method == "HEAD", request.KeepAlive && request.MinorVersion >= 1, request.Framing != BodyFraming.None);
        WorkerState? worker = null;
        try
        {
            // 1. Route.
            if (Admit(snapshot, request))
            {
                Route route = s.Route!;
                worker = _worker.Acquire(snapshot);
                s.Filters = route.Plugins.Count > 0 && worker.Plugins is not null
                    ? worker.Plugins.BeginStream(route.Plugins, _client.StreamInfo(route))
                    : null;
                if (s.Filters is not null)
                {
                    // The chain reads the forwarding fields in the head, as Envoy's filters do; without one, and until
                    // a plugin reads the fields, they stay lines.
                    request.Defer(s.Forwarding!);
                }
                // 2. Request plugins; 3-7 on the upstream the (possibly re-routed) route names.
                if (s.Filters is null || await FilterRequestHeadAsync(worker, s.Filters))
                {
                    UpstreamPool pool = worker.Pools[s.Route!.Cluster.Index];
                    // Awaited here, not in a method of their own: each async level costs every response a frame and a
                    // completion (docs/design.md, 'Workers').
                    while (await ConnectAsync(pool).ConfigureAwait(false) is { } upstream)
                    {
                        bool reused = upstream.RequestCount++ > 0;
                        upstream.Endpoint.BeginRequest();
                        try
                        {
                            if (!await ExchangeAsync(pool, upstream).ConfigureAwait(false))
                            {
                                break;
                            }
                            if (!TryRepeat(reused))
                            {
                                pool.ReportFailure(upstream.Endpoint);
                                s.Fail(ExchangeError.OfUpstream(ExchangeStage.ResponseHead, UpstreamError.Reset));
                                break;
                            }
                        }
                        finally
                        {
                            upstream.Endpoint.EndRequest();
                        }
                    }
                }
            }
            bool keepAlive = await _completion.FinishAsync().ConfigureAwait(false);
            _worker.Loop.EnsureCurrent();
            return keepAlive;
        }
        finally
        {
            s.Filters?.Complete();
            worker?.Release();
            _heldBody.End(_client.Watchdog);
            _completion.WriteAccessLine(RequestBodyBytes, ResponseBodyBytes);
        }
    }

    /// <summary>Starts a request's state and counts, also for one whose body is never pumped (its access log line says 0).</summary>
    private void Begin(ProxySnapshot snapshot, bool headRequest, bool keepAlive, bool hasBody)
    {
        _state.Begin(snapshot, Stopwatch.GetTimestamp(), headRequest, keepAlive, hasBody);
        _requestPump.ResetCount();
        _responsePump.ResetCount();
        _attempt = 0;
        _avoid = null;
    }

    /// <summary>The request's own checks and its route; false when the exchange ends here.</summary>
    private bool Admit(ProxySnapshot snapshot, HttpRequestHead request)
    {
        ExchangeState s = _state;
        s.Upgrade = UpgradeRequest.Offered(request);
        if (request.MayHoldHopByHopFields && !ForwardingHeaders.RemoveHopByHop(request.Headers))
        {
            s.Fail(ExchangeError.Rejected(ExchangeStage.RequestHead, RequestRejection.InvalidConnection));
            return false;
        }
        // FW-3: the scheme is the one the client reached this listener with, never one named by an absolute-form target.
        request.Scheme = _client.Listener.Scheme;
        s.Forwarding = _client.Forwarding;
        s.Forwarding.Begin(ForwardingHeaders.RemoveClientFields(request.Headers));
        // RL-7: routes, plugins and the upstream all see the normalized path.
        if (PathNormalizer.Normalize(request.Target, snapshot.Paths, out string target) == PathNormalizer.Result.EscapedSlash)
        {
            s.Fail(ExchangeError.Rejected(ExchangeStage.RequestPath, RequestRejection.EscapedSlash));
            return false;
        }
        request.Target = target;

        Route? route = snapshot.Routes.Match(request.Authority, request.Path);
        if (route is null)
        {
            s.Fail(new ExchangeError(ExchangeStage.Routing, ExchangeFault.NoRoute));
            return false;
        }
        s.Route = route;
        s.Upgrade = UpgradeRequest.Allowed(s.Upgrade, route.Options.Upgrades);
        if (s.Upgrade is not null)
        {
            // Plugins see the upgrade request as Envoy shows it: with its Connection and Upgrade fields.
            UpgradeRequest.AddFields(request.Headers, s.Upgrade);
        }
        return true;
    }

    /// <summary>
    /// Phase 4 for a request no plugin held: the head, and the body streamed from the client (through the plugins that
    /// inspect it, then chunked). Null when there is no body: the head waits for the caller's flush.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<PumpStatus?> SendRequestAsync(PipeWriter upstream, TransferWatchdog watch)
    {
        ExchangeState s = _state;
        HttpRequestHead request = s.Request;
        bool filterBody = s.Filters is not null && s.Filters.InspectsRequestBody && s.HasBody;
        HeadWriter.WriteRequest(upstream, request, filterBody ? BodyFraming.Chunked : request.Framing, request.ContentLength, s.Forwarding!.Lines);
        if (!s.HasBody)
        {
            return null;
        }
        if (request.ExpectContinue)
        {
            // EX-3: the gateway owns the expectation; it has routed and filtered, so it asks for the body now.
            await ContinueAsync();
        }
        watch.BeginRequestBody(s.Snapshot.Limits, upstream);
        try
        {
            return await _requestPump.PumpAsync(RequestBody(upstream, chunkedOut: filterBody || request.Framing == BodyFraming.Chunked, filterBody ? s.Filters : null, watch));
        }
        finally
        {
            // Before the upstream connection can be released: no tick may cancel a write on it afterwards.
            watch.End();
        }
    }

    /// <summary>The request body from the client to <paramref name="target"/>, bounded by limits.maxBodyBytes.</summary>
    private BodyTransfer RequestBody(PipeWriter target, bool chunkedOut, PluginStream? filter, TransferWatchdog watch)
    {
        HttpRequestHead request = _state.Request;
        return new BodyTransfer(_client.Input, request.Framing, request.ContentLength, _state.Snapshot.Limits.MaxBodyBytes, target, chunkedOut, IsRequest: true, _state.RequestTrailers)
        {
            Filter = filter,
            FilterTimeoutMs = _state.Route!.Cluster.Options.RequestTimeoutMs,
            FilterDeadline = filter is null ? null : _client.PluginDeadline,
            Watch = watch,
        };
    }

    /// <summary>
    /// Phase 3: a connection to the route's cluster; null, with the failure in the state, when there is none. A connect
    /// failure sent nothing, so an idempotent request may try another endpoint once (KA-7).
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<UpstreamConnection?> ConnectAsync(UpstreamPool pool)
    {
        ExchangeState s = _state;
        while (true)
        {
            var (upstream, tried, error) = await pool.AcquireAsync(_avoid);
            s.Upstream = upstream;
            if (upstream is not null)
            {
                s.Access.Upstream = upstream.Endpoint.HostHeader;
                return upstream;
            }
            if (_attempt == 0 && IsIdempotent && error is UpstreamError.ConnectRefused or UpstreamError.ConnectTimeout)
            {
                // The exit counts only the failure that ends the exchange; this one is counted here.
                s.Snapshot.Metrics.UpstreamFailed(s.Route!.Cluster.Index, error);
                _attempt++;
                _avoid = tried;
                continue;
            }
            s.Fail(ExchangeError.OfUpstream(ExchangeStage.Connect, error));
            return null;
        }
    }

    /// <summary>
    /// After a connection closed before any response: whether the request goes again on a fresh one (KA-7), which only a
    /// first attempt on a reused connection may, with a body that is not streamed or is still wholly held.
    /// </summary>
    private bool TryRepeat(bool reused)
    {
        if (_attempt > 0 || !IsIdempotent || !reused || (_state.HasBody && !_heldBody.IsWhole))
        {
            return false;
        }
        _attempt++;
        return true;
    }

    private bool IsIdempotent => _state.Request.Method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";

    /// <summary>
    /// Phases 4-7 on one upstream connection, which it releases. Returns true only when the connection closed before any
    /// response, so that a fresh one may be tried; every other end is in the state.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<bool> ExchangeAsync(UpstreamPool pool, UpstreamConnection upstream)
    {
        ExchangeState s = _state;
        HttpRequestHead request = s.Request;
        Route route = s.Route!;
        int timeoutMs = route.Cluster.Options.RequestTimeoutMs;

        // 4. Request head and body: a head a plugin held goes as the plugins left it, any other straight from the client.
        TransferWatchdog watch = _client.Watchdog;
        PumpStatus? streamed = _heldBody.Active
            ? await _heldBody.SendAsync(upstream.Output, request, _requestPump, watch)
            : await SendRequestAsync(upstream.Output, watch).ConfigureAwait(false);
        if (streamed is PumpStatus sent)
        {
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
                s.RequestBodyFailed(sent, _requestPump, watch.Expired);
                return false;
            }
            s.BodyRead = true;
        }
        else
        {
            // A head (and a held body) that no body pump flushes; a connection that turns out closed sent nothing.
            bool flushed;
            try
            {
                flushed = !(await upstream.Output.FlushAsync()).IsCompleted;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                flushed = false;
            }
            if (!flushed)
            {
                pool.Release(upstream, reusable: false);
                return true;
            }
        }

        // 5. Response head: each read completes on the worker by its socket, or is cancelled there by the deadline,
        // and resumes this step at once, not through the worker's queue (checked: EnsureCurrent).
        UpstreamError headError;
        _responseHead.Begin(
            upstream, s.Response, _client.Server.UpstreamLimits, timeoutMs, request.Method == "HEAD", s.Upgrade is not null);
        try
        {
            bool ended;
            do
            {
                ReadResult read = await upstream.ReadAsync().ConfigureAwait(false);
                ended = _responseHead.TryTake(read, out headError);
            }
            while (!ended);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            headError = UpstreamError.Reset;
        }
        finally
        {
            _responseHead.End();
        }
        _worker.Loop.EnsureCurrent();
        if (headError != UpstreamError.None)
        {
            pool.Release(upstream, reusable: false);
            if (headError == UpstreamError.Reset)
            {
                return true;
            }
            s.Fail(ExchangeError.OfUpstream(ExchangeStage.ResponseHead, headError));
            return false;
        }
        upstream.Endpoint.ReportSuccess();
        HttpResponseHead response = s.Response;
        string? switchedTo = null;
        if (response.StatusCode == 101 && !UpgradeRequest.Accepts(response, s.Upgrade!, out switchedTo))
        {
            // UP-4: a switch to a protocol the client never offered is a bad response.
            pool.Release(upstream, reusable: false);
            s.Fail(ExchangeError.OfUpstream(ExchangeStage.Upgrade, UpstreamError.BadResponse));
            return false;
        }

        // 6. Response plugins.
        bool responseHasBody = response.Framing != BodyFraming.None;
        ForwardingHeaders.CleanResponse(response);
        bool headHeld = false;
        if (s.Filters is { } filters)
        {
            FilterOutcome outcome = await _client.PluginDeadline.WithinAsync(filters, filters.OnResponseHeadersAsync(response, endOfStream: !responseHasBody), timeoutMs);
            // docs/proxy-wasm.md, 'Stream control' (0.2.100): a held response head goes with the first body bytes the plugins let through.
            headHeld = outcome.Action == FilterAction.HoldHeaders;
            if (outcome.Action != FilterAction.Continue && !headHeld)
            {
                pool.Release(upstream, reusable: false);
                s.Filtered(outcome, ExchangeStage.ResponseHeaders);
                return false;
            }
        }
        s.ResponseStatus = response.StatusCode;
        if (switchedTo is not null)
        {
            await UpgradeRelay.RunAsync(_client, s, pool, upstream, switchedTo, _logger);
            return false;
        }

        // 7. Response head and body toward the client.
        bool filterResponseBody = s.Filters is not null && (s.Filters.InspectsResponseBody || headHeld) && responseHasBody;
        BodyFraming clientFraming = ResponseFraming.ForClient(response.Framing, filterResponseBody, http10Client: request.MinorVersion == 0);
        bool clientKeepAlive = s.KeepAlive && clientFraming != BodyFraming.CloseDelimited && !_client.Server.IsDraining;
        if (headHeld)
        {
            // The seam after phase 6 for a held response head.
            _heldHead.Hold(response, clientFraming, !clientKeepAlive, s.Snapshot.Limits.MaxBodyBytes);
        }
        else
        {
            long length = clientFraming == BodyFraming.None
                ? BodilessLength.Of(response.StatusCode, s.HeadRequest, response.ContentLength)
                : response.ContentLength;
            HeadWriter.WriteResponse(_client.Output, response, clientFraming, length, close: !clientKeepAlive);
            s.ResponseStarted = true;
        }

        PumpStatus received = PumpStatus.Completed;
        if (responseHasBody)
        {
            watch.BeginResponse(s.Snapshot.Limits);
            try
            {
                received = await _responsePump.PumpAsync(new BodyTransfer(
                    upstream.Input, response.Framing, response.ContentLength, long.MaxValue,
                    _client.Output, clientFraming == BodyFraming.Chunked, IsRequest: false, s.ResponseTrailers)
                {
                    Filter = filterResponseBody ? s.Filters : null,
                    FilterTimeoutMs = timeoutMs,
                    FilterDeadline = filterResponseBody ? _client.PluginDeadline : null,
                    Watch = watch,
                    HeldHead = headHeld ? _heldHead : null,
                }).ConfigureAwait(false);
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
            if (headHeld)
            {
                // Until the plugins released the head, nothing of the response reached the client: it can still get a whole answer.
                s.ResponseStarted = !_heldHead.Pending;
                _heldHead.Clear();
            }
        }
        else if (!await _client.FlushAsync().ConfigureAwait(false))
        {
            received = PumpStatus.TargetClosed;
        }

        if (received != PumpStatus.Completed)
        {
            // RS-4: a truncated upstream body is not completed toward the client: no last chunk, close.
            pool.Release(upstream, reusable: false);
            s.ResponseBodyFailed(received, _responsePump);
            return false;
        }
        // KA-4: reuse only a connection whose exchange ended exactly at the response's framing.
        bool reusable = response.KeepAlive && response.Framing != BodyFraming.CloseDelimited && !ResponseHeadReader.HasExtraBytes(upstream);
        pool.Release(upstream, reusable);
        s.ResponseKeepAlive = clientKeepAlive;
        return false;
    }

    /// <summary>EX-3: asks the client for the body it is waiting to send.</summary>
    private ValueTask<bool> ContinueAsync()
    {
        _client.Output.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
        return _client.FlushAsync();
    }

    public void Dispose() => _responseHead.Dispose();
}
