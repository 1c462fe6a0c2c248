using Gateway.Http.Messages;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Logging;
using Gateway.Proxy.Routing;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Server;

/// <summary>
/// What one request carries through the exchange's phases, and how it ended (Pingora's session and context in one).
/// One per connection, reset by <see cref="Begin"/> for every request, so a request allocates none of it.
/// </summary>
internal sealed class ExchangeState
{
    /// <summary>The request head the connection parses into; the same object for every request on the connection.</summary>
    public HttpRequestHead Request { get; } = new();

    /// <summary>The response head read from the upstream.</summary>
    public HttpResponseHead Response { get; } = new();

    public HeaderCollection RequestTrailers { get; } = new();

    public HeaderCollection ResponseTrailers { get; } = new();

    /// <summary>What the access log line says; filled in as the exchange goes.</summary>
    public AccessRecord Access { get; } = new();

    public ProxySnapshot Snapshot { get; private set; } = null!;

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of the end of the request head.</summary>
    public long Started { get; private set; }

    /// <summary>The client's own method was HEAD: it expects no body after the response head, whatever plugins do later.</summary>
    public bool HeadRequest { get; private set; }

    /// <summary>The client allows another request on the connection after this one (KA-3).</summary>
    public bool KeepAlive { get; private set; }

    /// <summary>The request has a body (by its framing), read or not.</summary>
    public bool HasBody { get; private set; }

    /// <summary>The request body has been read whole (or there is none): the connection is at the next request.</summary>
    public bool BodyRead { get; set; }

    /// <summary>The connection's forwarding fields, begun for this request; null until the request is admitted that far.</summary>
    public ForwardingLines? Forwarding { get; set; }

    /// <summary>The request's X-Request-Id; empty before it has one.</summary>
    public string RequestId => Forwarding?.RequestId ?? "";

    /// <summary>The Upgrade protocols forwarded with this request (UP-1); null when it is not an upgrade the route allows.</summary>
    public string? Upgrade { get; set; }

    public Route? Route { get; set; }

    /// <summary>The plugin chain of the request; null when its route has none.</summary>
    public PluginStream? Filters { get; set; }

    /// <summary>The upstream connection of the current attempt; null before one is acquired or when acquiring failed.</summary>
    public UpstreamConnection? Upstream { get; set; }

    /// <summary>Body bytes that no body pump carried: a local answer's body, a tunnel's relayed bytes.</summary>
    public long LocalResponseBytes { get; set; }

    public long TunnelRequestBytes { get; set; }

    /// <summary>Why the exchange ended early; none when it did not.</summary>
    public ExchangeError Error { get; private set; }

    /// <summary>A plugin's answer, and the phase it came from; null when no plugin answered.</summary>
    public LocalReply? Reply { get; private set; }

    public ExchangeStage ReplyStage { get; private set; }

    /// <summary>The status of the upstream response the gateway forwards (0 until one is accepted).</summary>
    public int ResponseStatus { get; set; }

    /// <summary>Bytes of the response have been written toward the client: nothing else can answer it any more.</summary>
    public bool ResponseStarted { get; set; }

    /// <summary>The forwarded response leaves the connection able to carry another request.</summary>
    public bool ResponseKeepAlive { get; set; }

    public void Begin(ProxySnapshot snapshot, long started, bool headRequest, bool keepAlive, bool hasBody)
    {
        Snapshot = snapshot;
        Started = started;
        HeadRequest = headRequest;
        KeepAlive = keepAlive;
        HasBody = hasBody;
        BodyRead = !hasBody;
        Forwarding = null;
        Upgrade = null;
        Route = null;
        Filters = null;
        Upstream = null;
        LocalResponseBytes = 0;
        TunnelRequestBytes = 0;
        Error = default;
        Reply = null;
        ResponseStatus = 0;
        ResponseStarted = false;
        ResponseKeepAlive = false;
        RequestTrailers.Clear();
        ResponseTrailers.Clear();
        Access.Begin(started);
    }

    public void Fail(ExchangeError error) => Error = error;

    private void Answer(LocalReply reply, ExchangeStage stage)
    {
        Reply = reply;
        ReplyStage = stage;
    }

    /// <summary>What a plugin's decision other than continue (or hold) means for the exchange.</summary>
    public void Filtered(FilterOutcome outcome, ExchangeStage stage)
    {
        if (outcome.Action == FilterAction.LocalReply && outcome.Reply is { } reply)
        {
            Answer(reply, stage);
            return;
        }
        // Reset: the plugin closed the stream; the client sees the connection end.
        Fail(new ExchangeError(stage, outcome.Action == FilterAction.Failed ? ExchangeFault.PluginFailed : ExchangeFault.PluginReset));
    }

    /// <summary>Why a request body could not be forwarded; the connection always closes afterwards.</summary>
    public void RequestBodyFailed(PumpStatus status, BodyPump pump, ClientTimeout expired)
    {
        const ExchangeStage stage = ExchangeStage.RequestBody;
        switch (status)
        {
            case PumpStatus.Filtered:
                Filtered(pump.Outcome, stage);
                break;
            case PumpStatus.TimedOut:
                // TO-2: the upstream connection is already closed; 408 (nothing of the response has started), then close.
                Fail(ExchangeError.TimedOut(stage, expired));
                break;
            case PumpStatus.SourceInvalid:
                Fail(ExchangeError.Rejected(stage, pump.Rejection));
                break;
            case PumpStatus.TargetClosed:
                Fail(ExchangeError.OfUpstream(stage, UpstreamError.Reset));
                break;
            default:
                Fail(new ExchangeError(stage, ExchangeFault.ClientClosed));
                break;
        }
    }

    /// <summary>Why a response body did not reach its end; answered only if a held head kept the response from starting.</summary>
    public void ResponseBodyFailed(PumpStatus status, BodyPump pump)
    {
        const ExchangeStage stage = ExchangeStage.ResponseBody;
        switch (status)
        {
            case PumpStatus.Filtered:
                Filtered(pump.Outcome, stage);
                break;
            case PumpStatus.HeldTooLarge:
                Fail(new ExchangeError(stage, ExchangeFault.HeldTooLarge));
                break;
            case PumpStatus.TimedOut:
                // TO-4: the client stopped reading; its connection is reset and the upstream one closed.
                Fail(ExchangeError.TimedOut(stage, ClientTimeout.ResponseWrite));
                break;
            case PumpStatus.TargetClosed:
                Fail(new ExchangeError(stage, ExchangeFault.ClientClosed));
                break;
            default:
                Fail(ExchangeError.OfUpstream(stage, status == PumpStatus.SourceInvalid ? UpstreamError.BadResponse : UpstreamError.Reset));
                break;
        }
    }
}
