using System.Buffers;
using System.Diagnostics;
using Gateway.Http.Messages;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Runtime;

namespace Gateway.Plugins.Contexts;

/// <summary>
/// One HTTP exchange through a route's plugin chain, as a fixed list of phases (docs/proxy-wasm.md, 'Contexts and callbacks'). Request phases run
/// the plugins in configured order, response phases in reverse. A plugin that pauses holds the phase's
/// <see cref="ValueTask{TResult}"/> until it continues (from a completion, a tick or a queue callback), answers
/// locally, or fails. Only ever used on the worker that created it.
/// </summary>
public sealed class PluginStream
{
    private PluginDefinition[] _plugins;
    private StreamContext?[] _contexts;
    // Made when first needed: most streams never pause (the source) and pass no body through their plugins (the transit).
    private OutcomeSource? _source;
    private BodyTransit? _transit;
    private StreamPhase _phase;
    private int _pausedAt = -1;
    private bool _pending;
    private bool _running;
    private bool _endOfStream;
    private bool _completed;
    private bool _holdingHeaders;
    private int _headersReached;
    private bool _pausedInHeaders;

    internal PluginStream(PluginDefinition[] plugins, StreamContext?[] contexts, StreamInfo info)
    {
        _plugins = plugins;
        _contexts = contexts;
        Info = info;
        StartTime = DateTimeOffset.UtcNow;
        StartTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>The proxy re-routes the request: see <see cref="RouteCache"/>.</summary>
    public bool RouteInvalidated => Route.Invalidated;

    internal ref RouteCache Route => ref _route;

    private RouteCache _route;

    /// <summary>The plugins of the chain so far, in order; a re-route appends the destination route's new ones.</summary>
    internal IReadOnlyList<PluginDefinition> Plugins => _plugins;

    /// <summary>
    /// Appends plugins to the chain after a re-route and clears the re-route request they answer. Returns the index of
    /// the first new plugin.
    /// </summary>
    internal int Append(PluginDefinition[] plugins, StreamContext?[] contexts)
    {
        int from = _plugins.Length;
        _plugins = [.. _plugins, .. plugins];
        _contexts = [.. _contexts, .. contexts];
        Initialize();
        return from;
    }

    /// <summary>The route the request now matches was taken: later header changes may re-route it again.</summary>
    internal void AcceptRoute() => Route.Accept();

    /// <summary>
    /// Runs the request headers phase for the plugins a re-route added (from <paramref name="from"/> on), so the
    /// destination route's plugins see the request before it is forwarded there.
    /// </summary>
    public ValueTask<FilterOutcome> OnReroutedRequestHeadersAsync(int from) => Run(StreamPhase.RequestHeaders, from);

    /// <summary>Some plugin of the chain has a request body or trailer callback; otherwise the body need not pass through here.</summary>
    public bool InspectsRequestBody { get; private set; }

    public bool InspectsResponseBody { get; private set; }

    internal StreamInfo Info { get; }

    /// <summary>
    /// A Higress 0.2.100 plugin stopped the current direction's headers with StopIteration (docs/proxy-wasm.md, 'Stream control') and no body data
    /// has passed the whole chain since: the proxy must not send the head yet. Body phases still run; the headers are
    /// released (this turns false) with the first data that passes every plugin.
    /// </summary>
    public bool HeadersHeld => _holdingHeaders;

    /// <summary>Called once every context is attached.</summary>
    internal void Initialize()
    {
        for (int i = 0; i < _contexts.Length; i++)
        {
            var vm = _contexts[i]?.Vm;
            // Trailers arrive at the end of the body, so a plugin with a trailer callback needs the body to pass here too.
            InspectsRequestBody |= vm is not null && (vm.HasRequestBody || vm.HasRequestTrailers);
            InspectsResponseBody |= vm is not null && (vm.HasResponseBody || vm.HasResponseTrailers);
        }
    }

    private BodyTransit Transit => _transit ??= new();

    internal DateTimeOffset StartTime { get; }

    internal long StartTimestamp { get; }

    internal HttpRequestHead? Request { get; private set; }

    internal HttpResponseHead? Response { get; private set; }

    internal HeaderCollection? RequestTrailers { get; private set; }

    internal HeaderCollection? ResponseTrailers { get; private set; }

    internal long RequestBodyBytes { get; private set; }

    internal long ResponseBodyBytes { get; private set; }

    /// <summary>Values plugins stored with <c>proxy_set_property</c>, visible to every plugin of the stream (docs/proxy-wasm.md, 'Other imports').</summary>
    internal Dictionary<string, byte[]>? Properties { get; set; }

    /// <summary>What plugins asked the host to do with the stream (a local reply, a reset), taken at the next phase boundary.</summary>
    internal ref StreamRequests Requests => ref _requests;

    private StreamRequests _requests;

    /// <summary>A reply was already requested or the response went downstream: a further one is refused (docs/proxy-wasm.md, 'Stream control').</summary>
    internal bool ReplyLocked => Requests.ReplyRequested || _responseSent;

    private bool _responseSent;

    public ValueTask<FilterOutcome> OnRequestHeadersAsync(HttpRequestHead head, bool endOfStream)
    {
        Request = head;
        _endOfStream = endOfStream;
        return Run(StreamPhase.RequestHeaders, 0);
    }

    public ValueTask<FilterOutcome> OnRequestBodyAsync(ReadOnlySequence<byte> chunk, bool endOfStream, IBufferWriter<byte> forward)
    {
        RequestBodyBytes += chunk.Length;
        Transit.Start(chunk, forward);
        _endOfStream = endOfStream;
        return Run(StreamPhase.RequestBody, 0);
    }

    /// <summary>
    /// Ends a request body that has trailers, as Envoy does: the last body callback said end_of_stream false, and the
    /// trailer callbacks end the stream. Body a plugin buffered is readable during its trailer callback and goes on,
    /// through the later plugins' body callbacks, to <paramref name="forward"/> when that callback continues.
    /// </summary>
    public ValueTask<FilterOutcome> OnRequestTrailersAsync(HeaderCollection trailers, IBufferWriter<byte> forward)
    {
        RequestTrailers = trailers;
        Transit.Start(forward);
        return Run(StreamPhase.RequestTrailers, 0);
    }

    public ValueTask<FilterOutcome> OnResponseHeadersAsync(HttpResponseHead head, bool endOfStream)
    {
        Response = head;
        _endOfStream = endOfStream;
        return Run(StreamPhase.ResponseHeaders, _contexts.Length - 1);
    }

    public ValueTask<FilterOutcome> OnResponseBodyAsync(ReadOnlySequence<byte> chunk, bool endOfStream, IBufferWriter<byte> forward)
    {
        // A held response head has not gone downstream: a plugin may still answer locally (docs/proxy-wasm.md, 'Stream control').
        _responseSent |= !_holdingHeaders;
        ResponseBodyBytes += chunk.Length;
        Transit.Start(chunk, forward);
        _endOfStream = endOfStream;
        return Run(StreamPhase.ResponseBody, _contexts.Length - 1);
    }

    /// <summary>The response counterpart of <see cref="OnRequestTrailersAsync"/>.</summary>
    public ValueTask<FilterOutcome> OnResponseTrailersAsync(HeaderCollection trailers, IBufferWriter<byte> forward)
    {
        _responseSent |= !_holdingHeaders;
        ResponseTrailers = trailers;
        Transit.Start(forward);
        return Run(StreamPhase.ResponseTrailers, _contexts.Length - 1);
    }

    /// <summary>
    /// Ends the exchange (docs/proxy-wasm.md, 'Contexts and callbacks' B8–B10): <c>proxy_on_log</c>, <c>proxy_on_done</c>, <c>proxy_on_delete</c> for every
    /// plugin of the chain. Completions still pending for this stream are dropped; a pending phase completes with Reset.
    /// </summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }
        _completed = true;
        for (int i = 0; i < _contexts.Length; i++)
        {
            var context = _contexts[i];
            context?.Vm.EndStream(context);
        }
        _transit?.Release();
        if (_pending)
        {
            _pending = false;
            _source!.SetResult(new FilterOutcome(FilterAction.Reset, null));
        }
    }

    /// <summary>
    /// Ends a paused phase from outside with <paramref name="outcome"/>: the proxy's deadline for a plugin that never
    /// resumes. Nothing happens when no phase is paused. Call on the worker.
    /// </summary>
    public void ExpirePausedPhase(FilterOutcome outcome)
    {
        if (_completed || _running || !_pending)
        {
            return;
        }
        _pending = false;
        _source!.SetResult(outcome);
    }

    // ---- Called from imports and deferred actions.

    /// <summary>Applies what a plugin asked for from a callback that was not this stream's phase (docs/proxy-wasm.md, 'Calls that wait').</summary>
    internal void ApplyControl(StreamContext context)
    {
        if (_completed || _running)
        {
            return;
        }
        if (Requests.TryTake(out var outcome))
        {
            if (_pending)
            {
                _pending = false;
                _source!.SetResult(outcome);
            }
            else
            {
                Stash(outcome);
            }
            return;
        }
        if (!_pending || _pausedAt != context.Index)
        {
            return;
        }
        bool request = _phase <= StreamPhase.RequestTrailers;
        if (request ? context.ContinueRequest : context.ContinueResponse)
        {
            context.ContinueRequest = context.ContinueResponse = false;
            Resume();
        }
    }

    /// <summary>The VM of <paramref name="context"/> failed while this stream may be paused on it (docs/proxy-wasm.md, 'Loading and VMs').</summary>
    internal void OnPluginFailed(StreamContext context)
    {
        context.Bypassed = true;
        if (_completed || _running || !_pending || _pausedAt != context.Index)
        {
            return;
        }
        if (context.Plugin.Options.FailurePolicy == FailurePolicy.Closed)
        {
            _pending = false;
            _source!.SetResult(new FilterOutcome(FilterAction.Failed, null));
            return;
        }
        Resume();
    }

    private FilterOutcome? _stashed;

    private void Stash(FilterOutcome outcome) => _stashed ??= outcome;

    private ValueTask<FilterOutcome> Run(StreamPhase phase, int from)
    {
        if (_stashed is { } stashed)
        {
            _stashed = null;
            return new ValueTask<FilterOutcome>(stashed);
        }
        if (_completed)
        {
            return new ValueTask<FilterOutcome>(new FilterOutcome(FilterAction.Reset, null));
        }
        if (_pending)
        {
            throw new InvalidOperationException("a phase started while the previous one is still paused; await it or call Complete()");
        }
        _phase = phase;
        if (phase is StreamPhase.RequestHeaders or StreamPhase.ResponseHeaders)
        {
            _holdingHeaders = false;
        }
        if (RunGuarded(from) is { } done)
        {
            return new ValueTask<FilterOutcome>(done);
        }
        _pending = true;
        return (_source ??= new()).Pending();
    }

    /// <summary>
    /// Runs the current phase from plugin <paramref name="from"/> with re-entry refused meanwhile; a finished phase of
    /// response headers that continued means the head went downstream, so no local reply may follow.
    /// </summary>
    private FilterOutcome? RunGuarded(int from)
    {
        _running = true;
        FilterOutcome? outcome;
        try
        {
            outcome = RunFrom(from);
        }
        finally
        {
            _running = false;
        }
        if (outcome is { } done)
        {
            _responseSent |= _phase == StreamPhase.ResponseHeaders && done.Action == FilterAction.Continue;
        }
        return outcome;
    }

    private void Resume()
    {
        var context = _contexts[_pausedAt]!;
        int from = _phase <= StreamPhase.RequestTrailers ? _pausedAt + 1 : _pausedAt - 1;
        if (_pausedInHeaders)
        {
            // Paused in the header callback that body data brought along: the data, still in transit, now goes to
            // the same plugin's body callback.
            _pausedInHeaders = false;
            from = _pausedAt;
        }
        else if (_phase is not (StreamPhase.RequestHeaders or StreamPhase.ResponseHeaders))
        {
            // The held body goes on to the next plugin, with whatever the paused plugin changed (docs/proxy-wasm.md, 'Stream control').
            _transit!.PassOn(_phase <= StreamPhase.RequestTrailers ? context.RequestBody : context.ResponseBody);
        }
        if (RunGuarded(from) is { } done)
        {
            _pending = false;
            _source!.SetResult(done);
        }
    }

    /// <summary>Runs the current phase from plugin <paramref name="from"/>; null when a plugin paused it.</summary>
    private FilterOutcome? RunFrom(int from)
    {
        bool request = _phase <= StreamPhase.RequestTrailers;
        bool trailerPhase = _phase is StreamPhase.RequestTrailers or StreamPhase.ResponseTrailers;
        // Trailers end the body: what plugins buffered still travels the chain in that phase.
        bool bodyPhase = trailerPhase || _phase is StreamPhase.RequestBody or StreamPhase.ResponseBody;
        int step = request ? 1 : -1;
        for (int i = from; request ? i < _contexts.Length : i >= 0; i += step)
        {
            var context = _contexts[i];
            if (context is null)
            {
                // The plugin's VM could not be built on this worker: the failure policy decides (docs/proxy-wasm.md, 'Loading and VMs').
                if (_plugins[i].Options.FailurePolicy == FailurePolicy.Closed)
                {
                    return new FilterOutcome(FilterAction.Failed, null);
                }
                continue;
            }
            if (context.Bypassed || (!request && !context.Created))
            {
                // Response callbacks only reach contexts that existed when the request passed (docs/proxy-wasm.md, 'Contexts and callbacks').
                continue;
            }
            if (bodyPhase && _holdingHeaders && (request ? i > _headersReached : i < _headersReached))
            {
                // docs/proxy-wasm.md, 'Stream control' (0.2.100): the held headers travel with the first data past the plugin that held them; a
                // plugin sees them before its body callback, as Envoy runs the rest of the header chain first.
                _headersReached = i;
                var headers = context.RunCallback(request ? StreamPhase.RequestHeaders : StreamPhase.ResponseHeaders, endOfStream: false, _transit, out _stopOutcome);
                context.Vm.RunDeferred();
                if (headers == StepResult.Stop)
                {
                    return _stopOutcome;
                }
                if (headers == StepResult.Pause)
                {
                    _pausedAt = i;
                    _pausedInHeaders = true;
                    return null;
                }
            }
            if (trailerPhase)
            {
                var ended = EndBody(context, request);
                if (ended != StepResult.Continue)
                {
                    if (ended == StepResult.Pause)
                    {
                        _pausedAt = i;
                        _pausedInHeaders = false;
                        return null;
                    }
                    return _stopOutcome;
                }
                continue;
            }
            var result = context.RunCallback(_phase, _endOfStream, _transit, out _stopOutcome);
            context.Vm.RunDeferred();
            switch (result)
            {
                case StepResult.Stop:
                    return _stopOutcome;
                case StepResult.Pause:
                    _pausedAt = i;
                    _pausedInHeaders = false;
                    return null;
                case StepResult.Hold:
                    return FilterOutcome.Continue;
                case StepResult.HoldHeaders:
                    _holdingHeaders = true;
                    _headersReached = i;
                    return new FilterOutcome(FilterAction.HoldHeaders, null);
            }
        }
        if (bodyPhase)
        {
            // The data passed every plugin: held headers go out before it (docs/proxy-wasm.md, 'Stream control').
            _holdingHeaders = false;
            _responseSent |= !request;
            _transit!.Flush();
        }
        return FilterOutcome.Continue;
    }

    private FilterOutcome _stopOutcome;

    /// <summary>
    /// One plugin's part of a trailer phase, in Envoy's order: data released by earlier plugins reaches its body
    /// callback (end_of_stream false), then its trailer callback runs; when that continues, the body it buffered goes on.
    /// Returns Continue, Pause or Stop.
    /// </summary>
    private StepResult EndBody(StreamContext context, bool request)
    {
        if (_transit!.Length > 0)
        {
            var body = context.RunCallback(request ? StreamPhase.RequestBody : StreamPhase.ResponseBody, endOfStream: false, _transit, out _stopOutcome);
            context.Vm.RunDeferred();
            if (body == StepResult.Stop)
            {
                return body;
            }
        }
        var result = context.RunCallback(_phase, endOfStream: true, _transit, out _stopOutcome);
        context.Vm.RunDeferred();
        if (result == StepResult.Continue)
        {
            _transit!.PassOn(request ? context.RequestBody : context.ResponseBody);
        }
        return result;
    }
}
