using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Contexts;

/// <summary>
/// One plugin's view of one HTTP exchange: its stream context (created in the guest lazily, at request headers),
/// its body buffers, and what it asked the host to do with the stream from inside a guest call.
/// </summary>
internal sealed class StreamContext(int id, PluginVm vm, PluginDefinition plugin, RootContext root, PluginStream stream, int index)
    : ProxyContext(id, vm, plugin)
{
    public override RootContext Root { get; } = root;

    public PluginStream Stream { get; } = stream;

    /// <summary>Position of this plugin in the route's chain.</summary>
    public int Index { get; } = index;

    /// <summary><c>proxy_on_context_create</c> ran for this id.</summary>
    public bool Created { get; set; }

    /// <summary>The plugin failed (trap, limit) with failure policy open: the stream goes on without it.</summary>
    public bool Bypassed { get; set; }

    private BodyBuffer? _requestBody;
    private BodyBuffer? _responseBody;

    /// <summary>Body this plugin buffered; made on first use, as most streams never buffer one.</summary>
    public BodyBuffer RequestBody => _requestBody ??= new();

    public BodyBuffer ResponseBody => _responseBody ??= new();

    /// <summary>Calls (HTTP, Redis, SQL) this context started whose completion has not been taken yet.</summary>
    public int CallsInFlight { get; set; }

    /// <summary>Returns the buffered bodies' memory at the end of the stream.</summary>
    public void ReleaseBodies()
    {
        _requestBody?.Release();
        _responseBody?.Release();
    }

    /// <summary><c>proxy_continue_stream</c> requests not yet applied (docs/proxy-wasm.md, 'Calls that wait': applied after the guest call returns).</summary>
    public bool ContinueRequest { get; set; }

    public bool ContinueResponse { get; set; }

    /// <summary><c>proxy_continue_stream</c>: resumes one direction once the guest call returns.</summary>
    public void Continue(bool request)
    {
        if (request)
        {
            ContinueRequest = true;
        }
        else
        {
            ContinueResponse = true;
        }
        Vm.Touch(this);
    }

    /// <summary><c>proxy_close_stream</c>: the exchange is reset once the guest call returns.</summary>
    public void Close()
    {
        Stream.Requests.Reset();
        Vm.Touch(this);
    }

    /// <summary>
    /// <c>proxy_send_local_response</c>, its arguments already checked against the host's limits. A body without a
    /// content-type is sent as text; whitespace in the details becomes '_', as Envoy writes response-code details.
    /// </summary>
    public void SendLocalReply(int status, HeaderCollection headers, byte[] body, string details)
    {
        if (body.Length > 0 && !headers.Contains("content-type"))
        {
            headers.Add("content-type", "text/plain");
        }
        var cleaned = new StringBuilder(details.Length);
        foreach (char ch in details)
        {
            cleaned.Append(char.IsWhiteSpace(ch) ? '_' : ch);
        }
        Stream.Requests.LocalReply(new LocalReply(status, headers, body, cleaned.ToString()));
        Vm.Touch(this);
    }

    /// <summary>
    /// <c>proxy_set_property</c>: the value is visible to every plugin of the stream. Two Higress control keys act
    /// as well: <c>wasm_need_rebuild = true</c> asks for a fresh VM, <c>clear_route_cache = off</c> keeps the route
    /// when the request headers change.
    /// </summary>
    public void SetProperty(string path, byte[] value)
    {
        (Stream.Properties ??= new(StringComparer.Ordinal))[path] = value;
        if (path == "wasm_need_rebuild" && value.AsSpan().SequenceEqual("true"u8))
        {
            Vm.RebuildRequested = true;
        }
        else if (path == "clear_route_cache" && value.AsSpan().SequenceEqual("off"u8))
        {
            Stream.Route.Keep();
        }
    }

    /// <summary>
    /// Runs this plugin's callback for <paramref name="phase"/> and says what its answer means for the phase. Body
    /// bytes come from and go back to <paramref name="transit"/> (which only body and trailer phases need);
    /// <paramref name="stop"/> is the outcome when the answer is Stop (a failure with policy closed, a local reply, a reset).
    /// </summary>
    public StepResult RunCallback(StreamPhase phase, bool endOfStream, BodyTransit? transit, out FilterOutcome stop)
    {
        stop = default;
        bool request = phase <= StreamPhase.RequestTrailers;
        var vm = Vm;
        ContinueRequest = ContinueResponse = false;
        bool ok = vm.EnsureCreated(this);
        int action = 0;
        bool body = false;
        if (ok)
        {
            switch (phase)
            {
                case StreamPhase.RequestHeaders:
                    ok = vm.OnRequestHeaders(this, new HeaderMap(Stream.Request!, false).Count, endOfStream, out action);
                    break;
                case StreamPhase.ResponseHeaders:
                    ok = vm.OnResponseHeaders(this, new HeaderMap(Stream.Response!, false).Count, endOfStream, out action);
                    break;
                case StreamPhase.RequestTrailers:
                    ok = vm.OnTrailers(this, true, Stream.RequestTrailers!.Count, out action);
                    break;
                case StreamPhase.ResponseTrailers:
                    ok = vm.OnTrailers(this, false, Stream.ResponseTrailers!.Count, out action);
                    break;
                default:
                    body = true;
                    if (!(request ? vm.HasRequestBody : vm.HasResponseBody))
                    {
                        return StepResult.Continue;
                    }
                    var buffer = request ? RequestBody : ResponseBody;
                    transit!.TakeInto(buffer);
                    ok = vm.OnBody(this, request, buffer.Length, endOfStream, out action);
                    break;
            }
        }
        if (!ok)
        {
            Bypassed = true;
            if (Plugin.Options.FailurePolicy == FailurePolicy.Closed)
            {
                stop = new FilterOutcome(FilterAction.Failed, null);
                return StepResult.Stop;
            }
            if (body)
            {
                // Fail open: what the plugin held goes on without it.
                transit!.PassOn(request ? RequestBody : ResponseBody);
            }
            return StepResult.Continue;
        }
        if (Stream.Requests.TryTake(out stop))
        {
            // A local reply or a close forces "stop" whatever the callback returned (docs/proxy-wasm.md, 'Stream control').
            return StepResult.Stop;
        }
        bool continued = request ? ContinueRequest : ContinueResponse;
        ContinueRequest = ContinueResponse = false;
        if (!body)
        {
            return continued ? StepResult.Continue : HeaderAction.Of(action, phase, endOfStream, vm.Abi);
        }
        var held = request ? RequestBody : ResponseBody;
        if (action == 0 || continued)
        {
            transit!.PassOn(held);
            return StepResult.Continue;
        }
        if (action >= 3)
        {
            // StopIterationNoBuffer: the plugin took the bytes; nothing goes on.
            held.Clear();
            return StepResult.Hold;
        }
        // 1 and 2: keep accumulating; only the last chunk holds the phase until the plugin continues.
        return endOfStream ? StepResult.Pause : StepResult.Hold;
    }
}
