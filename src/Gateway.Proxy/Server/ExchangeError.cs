using Gateway.Http.Parsing;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Server;

/// <summary>The phase of an exchange a failure happened in; <see cref="ExchangeErrors.Label(ExchangeStage)"/> names it in log lines.</summary>
internal enum ExchangeStage
{
    RequestHead,
    RequestPath,
    Routing,
    RequestHeaders,
    RequestBody,
    Connect,
    ResponseHead,
    Upgrade,
    ResponseHeaders,
    ResponseBody,
}

/// <summary>Whose doing a failure was.</summary>
internal enum ExchangeSide
{
    Client,
    Upstream,
    Plugin,
    Gateway,
}

/// <summary>What went wrong, within its side; the details are on <see cref="ExchangeError"/>.</summary>
internal enum ExchangeFault
{
    None,
    /// <summary>The request broke a rule; <see cref="ExchangeError.Rejection"/> says which.</summary>
    Rejected,
    /// <summary>A client deadline expired; <see cref="ExchangeError.Timeout"/> says which.</summary>
    TimedOut,
    /// <summary>The client went away (or closed the body early).</summary>
    ClientClosed,
    /// <summary><see cref="ExchangeError.Upstream"/> says what the upstream did.</summary>
    Upstream,
    /// <summary>A plugin failed with its failure policy closed.</summary>
    PluginFailed,
    /// <summary>A plugin closed the stream: the client sees the connection end.</summary>
    PluginReset,
    NoRoute,
    /// <summary>More body arrived while a plugin held the response head than limits.maxBodyBytes allows.</summary>
    HeldTooLarge,
}

/// <summary>
/// Why an exchange ended early, with the stage where it happened (as YARP's <c>ForwarderError</c>). Every failure
/// path sets one; <see cref="ExchangeCompletion"/> answers, counts and logs it.
/// </summary>
internal readonly record struct ExchangeError(
    ExchangeStage Stage, ExchangeFault Fault,
    UpstreamError Upstream = UpstreamError.None, RequestRejection Rejection = RequestRejection.None, ClientTimeout Timeout = ClientTimeout.None)
{
    public bool IsNone => Fault == ExchangeFault.None;

    public ExchangeSide Side => Fault switch
    {
        ExchangeFault.Rejected or ExchangeFault.TimedOut or ExchangeFault.ClientClosed => ExchangeSide.Client,
        ExchangeFault.Upstream => ExchangeSide.Upstream,
        ExchangeFault.PluginFailed or ExchangeFault.PluginReset => ExchangeSide.Plugin,
        _ => ExchangeSide.Gateway,
    };

    public static ExchangeError OfUpstream(ExchangeStage stage, UpstreamError error) => new(stage, ExchangeFault.Upstream, Upstream: error);

    public static ExchangeError Rejected(ExchangeStage stage, RequestRejection rejection) => new(stage, ExchangeFault.Rejected, Rejection: rejection);

    public static ExchangeError TimedOut(ExchangeStage stage, ClientTimeout timeout) => new(stage, ExchangeFault.TimedOut, Timeout: timeout);
}

/// <summary>
/// The one place that maps an <see cref="ExchangeError"/> to what the client gets; it defers to the maps of the
/// errors it wraps (<see cref="UpstreamErrors"/>, <see cref="RequestRejections"/>).
/// </summary>
internal static class ExchangeErrors
{
    public static int StatusCode(in ExchangeError error) => error.Fault switch
    {
        ExchangeFault.Rejected => RequestRejections.StatusCode(error.Rejection),
        ExchangeFault.TimedOut => 408,
        // Nobody reads it; the access log and the metrics say the request was incomplete.
        ExchangeFault.ClientClosed => 400,
        ExchangeFault.Upstream => UpstreamErrors.StatusCode(error.Upstream),
        ExchangeFault.NoRoute => 404,
        _ => 500,
    };

    /// <summary>Short fixed text for the error body; never echoes request bytes.</summary>
    public static string Reason(in ExchangeError error) => error.Fault switch
    {
        ExchangeFault.Rejected => RequestRejections.Reason(error.Rejection),
        ExchangeFault.TimedOut when error.Timeout == ClientTimeout.Header => "request head not received in time",
        ExchangeFault.TimedOut => "request body not received in time",
        ExchangeFault.ClientClosed => "request body incomplete",
        ExchangeFault.Upstream when error.Stage == ExchangeStage.RequestBody => "upstream closed while receiving the request body",
        ExchangeFault.Upstream => UpstreamErrors.Label(error.Upstream),
        ExchangeFault.PluginFailed => "plugin failure",
        ExchangeFault.NoRoute => "no route",
        ExchangeFault.HeldTooLarge => "response body held by a plugin exceeds limits.maxBodyBytes",
        _ => "internal error",
    };

    /// <summary>
    /// Whether the client is told: not when it is gone or does not read, nor when a plugin closed the stream, nor once
    /// the response has started (then the connection just closes, RS-4).
    /// </summary>
    public static bool Answers(in ExchangeError error) => error.Fault switch
    {
        ExchangeFault.ClientClosed or ExchangeFault.PluginReset => false,
        ExchangeFault.TimedOut => error.Timeout != ClientTimeout.ResponseWrite,
        _ => true,
    };

    /// <summary>
    /// Whether the connection may carry another request after the answer: only where the request was read whole and
    /// nothing of a response or a switch had started.
    /// </summary>
    public static bool AllowsKeepAlive(ExchangeStage stage) =>
        stage is not (ExchangeStage.RequestHead or ExchangeStage.RequestBody or ExchangeStage.Upgrade or ExchangeStage.ResponseBody);

    public static string Label(ExchangeStage stage) => stage switch
    {
        ExchangeStage.RequestHead => "request_head",
        ExchangeStage.RequestPath => "request_path",
        ExchangeStage.Routing => "routing",
        ExchangeStage.RequestHeaders => "request_headers",
        ExchangeStage.RequestBody => "request_body",
        ExchangeStage.Connect => "connect",
        ExchangeStage.ResponseHead => "response_head",
        ExchangeStage.Upgrade => "upgrade",
        ExchangeStage.ResponseHeaders => "response_headers",
        _ => "response_body",
    };
}
