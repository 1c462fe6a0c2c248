namespace Gateway.Http.Parsing;

/// <summary>The methods the gateway implements (RFC 9110 §9); compared case-sensitively (RFC 9110 §9.1).</summary>
internal static class HttpMethods
{
    public const string Get = "GET";
    public const string Head = "HEAD";
    public const string Post = "POST";
    public const string Put = "PUT";
    public const string Delete = "DELETE";
    public const string Patch = "PATCH";
    public const string Options = "OPTIONS";
    public const string Trace = "TRACE";

    /// <summary>The interned method for a valid token, or null when the gateway does not implement it (→ 501).</summary>
    public static string? Find(ReadOnlySpan<byte> token) => token.Length switch
    {
        3 when token.SequenceEqual("GET"u8) => Get,
        3 when token.SequenceEqual("PUT"u8) => Put,
        4 when token.SequenceEqual("POST"u8) => Post,
        4 when token.SequenceEqual("HEAD"u8) => Head,
        5 when token.SequenceEqual("PATCH"u8) => Patch,
        5 when token.SequenceEqual("TRACE"u8) => Trace,
        6 when token.SequenceEqual("DELETE"u8) => Delete,
        7 when token.SequenceEqual("OPTIONS"u8) => Options,
        _ => null,
    };

    /// <summary>
    /// Methods whose requests may not carry a body: only TRACE (RFC 9110 §9.3.8). Bodies on GET, HEAD, DELETE and
    /// OPTIONS are forwarded with their framing re-written like any other, as Envoy does: search APIs send them and
    /// plugins act on them.
    /// </summary>
    public static bool ForbidsBody(string method) => ReferenceEquals(method, Trace);

    /// <summary>Methods sent without a body in practice: their "Content-Length: 0" is dropped, not forwarded.</summary>
    public static bool UsuallyBodyless(string method) =>
        ReferenceEquals(method, Get) || ReferenceEquals(method, Head) || ReferenceEquals(method, Trace);
}
