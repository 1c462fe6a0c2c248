using Gateway.Http.Messages;

namespace Gateway.Proxy.Forwarding;

/// <summary>The framing a response body gets toward the client (P-1: the gateway writes its own framing).</summary>
internal static class ResponseFraming
{
    /// <summary>
    /// A known length stays, unless plugins may change the body; RS-5: an unknown length goes chunked to HTTP/1.1
    /// clients and close-delimited to HTTP/1.0 ones.
    /// </summary>
    public static BodyFraming ForClient(BodyFraming upstream, bool filtered, bool http10Client) => upstream switch
    {
        BodyFraming.ContentLength when !filtered => BodyFraming.ContentLength,
        BodyFraming.None => BodyFraming.None,
        _ => http10Client ? BodyFraming.CloseDelimited : BodyFraming.Chunked,
    };
}
