namespace Gateway.Http.Parsing;

/// <summary>
/// CH-7: fields that must never arrive in a trailer section (RFC 9110 §6.5.1): message framing, routing, request
/// modifiers, authentication, and content metadata that would change how the already-forwarded body is read.
/// </summary>
internal static class TrailerFields
{
    public static bool IsForbidden(string name) => name switch
    {
        HeaderNames.ContentLength or HeaderNames.TransferEncoding or HeaderNames.Host or HeaderNames.Connection
            or HeaderNames.Expect or HeaderNames.Upgrade or HeaderNames.Authorization or HeaderNames.ContentType
            or "content-encoding" or "content-range" or "keep-alive" or "te" or "trailer" or "proxy-connection"
            or "proxy-authorization" or "proxy-authenticate" or "www-authenticate" or "cookie" or "set-cookie"
            or "cache-control" or "max-forwards" or "range" or "if-match" or "if-none-match" or "if-modified-since"
            or "if-unmodified-since" or "if-range" or "location" or "retry-after" or "vary" or "age" or "expires"
            or "date" or "forwarded" or "via" or "x-forwarded-for" or "x-forwarded-host" or "x-forwarded-proto" => true,
        _ => false,
    };
}
