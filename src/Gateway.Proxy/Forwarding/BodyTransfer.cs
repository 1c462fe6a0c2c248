using System.IO.Pipelines;
using Gateway.Http.Messages;
using Gateway.Plugins.Contexts;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// What a <see cref="BodyPump"/> needs to move one body, given once per body: where it comes from and in which framing,
/// where it goes and in which, and who watches it on the way.
/// </summary>
/// <param name="MaxBytes">The chunked decoder's bound (limits.maxBodyBytes, 413); a declared length above it never gets here.</param>
/// <param name="ChunkedOut">Whether the target gets the body in the chunked coding (the gateway's own framing, P-1).</param>
/// <param name="Trailers">Filled by the chunked decoder; relayed after a response body, dropped after a request body (CH-7).</param>
internal readonly record struct BodyTransfer(
    PipeReader Source, BodyFraming Framing, long ContentLength, long MaxBytes,
    PipeWriter Target, bool ChunkedOut, bool IsRequest, HeaderCollection Trailers)
{
    /// <summary>The plugin chain the body passes through; null when no plugin inspects it.</summary>
    public PluginStream? Filter { get; init; }

    /// <summary>How long one plugin body callback may take (the route's request timeout).</summary>
    public int FilterTimeoutMs { get; init; } = Timeout.Infinite;

    /// <summary>The connection's bound on a body callback that pauses (<see cref="FilterTimeoutMs"/>); given with <see cref="Filter"/>.</summary>
    public PluginDeadline? FilterDeadline { get; init; }

    /// <summary>A request pump reports the client's progress to it (TO-2), a response pump its blocked writes (TO-4).</summary>
    public TransferWatchdog? Watch { get; init; }

    /// <summary>A response head a plugin holds: it goes out right before the first bytes the chain lets through.</summary>
    public HeldResponseHead? HeldHead { get; init; }

    /// <summary>A request body received while a plugin holds its head stops once the plugins release it (<see cref="PumpStatus.HeadReleased"/>).</summary>
    public bool UntilHeadReleased { get; init; }
}
