namespace Gateway.Proxy.Upstream;

/// <summary>Why an exchange with an upstream failed, each mapped to one client status (README, 'What a client sees when something goes wrong').</summary>
internal enum UpstreamError
{
    None,
    ConnectRefused,
    ConnectTimeout,
    PoolExhausted,
    Reset,
    ResponseTimeout,
    BadResponse,
    /// <summary>The TLS handshake with the upstream failed (for example its certificate does not verify).</summary>
    TlsHandshake,
}

internal static class UpstreamErrors
{
    public static readonly int Count = Enum.GetValues<UpstreamError>().Length;

    public static int StatusCode(UpstreamError error) => error switch
    {
        UpstreamError.ConnectTimeout or UpstreamError.ResponseTimeout => 504,
        UpstreamError.PoolExhausted => 503,
        _ => 502,
    };

    public static string Label(UpstreamError error) => error switch
    {
        UpstreamError.ConnectRefused => "connect_refused",
        UpstreamError.ConnectTimeout => "connect_timeout",
        UpstreamError.PoolExhausted => "pool_exhausted",
        UpstreamError.Reset => "reset",
        UpstreamError.ResponseTimeout => "response_timeout",
        UpstreamError.BadResponse => "bad_response",
        UpstreamError.TlsHandshake => "tls_handshake",
        _ => "none",
    };
}
