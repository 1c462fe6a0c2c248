namespace Gateway.Proxy.Forwarding;

/// <summary>Why a tunnel ended.</summary>
internal enum TunnelEnd
{
    ClientClosed,
    UpstreamClosed,
    IdleTimeout,
    Error,
}

/// <summary>Metric labels of <see cref="TunnelEnd"/>.</summary>
internal static class TunnelEnds
{
    public const int Count = 4;

    public static string Label(TunnelEnd end) => end switch
    {
        TunnelEnd.ClientClosed => "client",
        TunnelEnd.UpstreamClosed => "upstream",
        TunnelEnd.IdleTimeout => "idle_timeout",
        _ => "error",
    };
}
