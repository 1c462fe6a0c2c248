using Gateway.Http.Messages;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Runtime;

/// <summary>What the host calls of the plugins reach outside the VM.</summary>
public sealed class PluginServices
{
    public required ILoggerFactory LoggerFactory { get; init; }

    /// <summary>Upstream client behind <c>proxy_http_call</c>; without it every call answers BAD_ARGUMENT (unknown cluster).</summary>
    public IHttpCallDispatcher? HttpCalls { get; init; }

    /// <summary>Redis and SQL targets behind <c>proxy_redis_call</c> and <c>proxy_sql_call</c>.</summary>
    public Gateway.Backends.BackendRegistry? Backends { get; init; }

    /// <summary>Default for <c>proxy_http_call</c> with <c>timeout_ms = 0</c> (docs/proxy-wasm.md, 'Calls that wait' POLICY).</summary>
    public TimeSpan DefaultHttpCallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Cap on every <c>proxy_http_call</c> timeout.</summary>
    public TimeSpan MaxHttpCallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Redis and SQL calls one plugin may have in flight; beyond it the call answers INTERNAL_FAILURE (docs/proxy-wasm.md, 'Calls that wait' and 'The SQL extension').</summary>
    public int MaxBackendCallsInFlightPerPlugin { get; init; } = 1024;

    /// <summary>The client limits; heads and bodies plugins build are held to them too.</summary>
    public Gateway.Http.HttpLimits MessageLimits { get; init; } = new();

    /// <summary>Where compiled modules are cached across starts; null compiles every module at every start.</summary>
    public string? ModuleCacheDirectory { get; init; }

    /// <summary>The plugins' series; the gateway passes one instance for the whole process so reloads keep counting.</summary>
    public Metrics.PluginMetrics Metrics { get; init; } = new();

    /// <summary>Identity reported by the <c>node.id</c> property.</summary>
    public string NodeId { get; init; } = Environment.MachineName;
}

/// <summary>Sends plugin callouts through the gateway's upstream client.</summary>
public interface IHttpCallDispatcher
{
    /// <summary>
    /// Sends a request to a configured cluster. <paramref name="onComplete"/> may run on any thread, exactly once;
    /// the host posts it to the worker that owns the calling VM.
    /// </summary>
    void Send(string cluster, HttpRequestHead request, ReadOnlyMemory<byte> body, TimeSpan timeout, Action<HttpCallResult> onComplete);

    bool HasCluster(string cluster);
}

/// <summary>
/// Outcome of a callout. A timeout or connect failure is reported by the dispatcher as a synthesized response
/// (504 / 503, docs/proxy-wasm.md, 'Calls that wait'); <see cref="Succeeded"/> = false means a reset: the plugin sees zero headers.
/// </summary>
public sealed record HttpCallResult(bool Succeeded, HttpResponseHead? Response, byte[] Body, string? FailureReason);

/// <summary>
/// Facts about the exchange that plugins read as properties (docs/proxy-wasm.md, 'Other imports'). All but the request
/// id are the connection's and the route's, so one value serves a connection's requests on one route.
/// </summary>
public sealed record StreamInfo(
    string RouteName,
    string ClusterName,
    System.Net.IPEndPoint? Source,
    System.Net.IPEndPoint? Destination,
    IRequestIdSource? RequestIds,
    string Protocol,
    ConnectionTls? Tls = null)
{
    private byte[]? _sourceAddress;
    private byte[]? _destinationAddress;

    /// <summary><c>source.address</c> as plugins read it, made on first read; the caller never changes the bytes.</summary>
    internal byte[]? SourceAddress => Source is null ? null : _sourceAddress ??= Host.Properties.Address(Source);

    internal byte[]? DestinationAddress => Destination is null ? null : _destinationAddress ??= Host.Properties.Address(Destination);
}

/// <summary>The id of the request a connection is on, made into text only when a plugin reads it (property <c>request.id</c>).</summary>
public interface IRequestIdSource
{
    string RequestId { get; }
}

/// <summary>What the proxy does after a plugin phase.</summary>
public readonly record struct FilterOutcome(FilterAction Action, LocalReply? Reply)
{
    public static FilterOutcome Continue => new(FilterAction.Continue, null);
}

public enum FilterAction
{
    /// <summary>Every plugin continued; forward the (possibly modified) message.</summary>
    Continue,
    /// <summary>A plugin answered; send <see cref="FilterOutcome.Reply"/> and skip the rest of the chain.</summary>
    LocalReply,
    /// <summary>A plugin closed the stream (<c>proxy_close_stream</c>): close the connection.</summary>
    Reset,
    /// <summary>A plugin trapped or hit a limit with failure policy closed: answer 500.</summary>
    Failed,
    /// <summary>
    /// Header phases only: a Higress 0.2.100 plugin held the headers (StopIteration, docs/proxy-wasm.md, 'Stream control'). Do not send the head;
    /// run the body phases, and send the head, as changed meanwhile, once <see cref="PluginStream.HeadersHeld"/> turns
    /// false (before the first body bytes that come out of the chain) or at the end of the body.
    /// </summary>
    HoldHeaders,
}

/// <summary>A response generated by a plugin (<c>proxy_send_local_response</c>).</summary>
public sealed record LocalReply(int StatusCode, HeaderCollection Headers, ReadOnlyMemory<byte> Body, string Details);
