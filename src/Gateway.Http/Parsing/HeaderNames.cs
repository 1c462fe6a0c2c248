using System.Text;

namespace Gateway.Http.Parsing;

/// <summary>
/// Lower-case field names the gateway interns. The parser returns these very instances for known names,
/// so framing decisions compare references, and steady-state parsing allocates no name strings.
/// </summary>
internal static class HeaderNames
{
    public const string Host = "host";
    public const string ContentLength = "content-length";
    public const string TransferEncoding = "transfer-encoding";
    public const string Connection = "connection";
    public const string Expect = "expect";
    public const string Upgrade = "upgrade";
    public const string Authorization = "authorization";
    public const string ContentType = "content-type";

    private const int Letters = 26;

    // Grouped by length and first letter (every name starts with one), so a lookup compares about one candidate.
    private static readonly string[][] s_byShape = Group(
    [
        Host, ContentLength, TransferEncoding, Connection, Expect, Upgrade, Authorization, ContentType,
        "accept", "accept-encoding", "accept-language", "accept-charset", "user-agent", "referer", "origin",
        "cookie", "set-cookie", "cache-control", "pragma", "date", "server", "via", "te", "trailer",
        "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "www-authenticate",
        "content-encoding", "content-language", "content-range", "content-location", "content-disposition",
        "etag", "last-modified", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since",
        "if-range", "range", "accept-ranges", "location", "vary", "age", "expires", "retry-after",
        "max-forwards", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
        "x-forwarded-port", "x-forwarded-prefix", "x-real-ip", "x-request-id", "traceparent", "tracestate",
        "upgrade-insecure-requests", "dnt", "priority", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest",
        "sec-fetch-user", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol",
        "sec-websocket-extensions", "sec-websocket-accept", "access-control-allow-origin", "strict-transport-security",
        "x-content-type-options", "x-frame-options", "alt-svc", "link", "x-api-key", "http2-settings",
    ]);

    /// <summary>The interned lower-case name for a validated token, or a cached lower-case string.</summary>
    public static string Get(ReadOnlySpan<byte> token)
    {
        if (!token.IsEmpty)
        {
            int letter = (token[0] | 0x20) - 'a';
            int shape = Shape(token.Length, letter);
            if ((uint)letter < Letters && (uint)shape < (uint)s_byShape.Length)
            {
                foreach (string known in s_byShape[shape])
                {
                    if (Ascii.EqualsIgnoreCase(token, known))
                    {
                        return known;
                    }
                }
            }
        }
        if (token.Length <= 256)
        {
            Span<byte> lower = stackalloc byte[token.Length];
            Ascii.ToLower(token, lower, out _);
            return Latin1StringCache.Current.Get(lower);
        }
        return string.Create(token.Length, token.ToArray(), static (chars, bytes) => Ascii.ToLower(bytes, chars, out _));
    }

    /// <summary>A name's group: its length and its first letter (0 for 'a').</summary>
    private static int Shape(int length, int letter) => (length * Letters) + letter;

    private static int ShapeOf(string name) => Shape(name.Length, name[0] - 'a');

    private static string[][] Group(string[] names)
    {
        int last = 0;
        foreach (string name in names)
        {
            last = Math.Max(last, ShapeOf(name));
        }
        var groups = new List<string>[last + 1];
        foreach (string name in names)
        {
            (groups[ShapeOf(name)] ??= []).Add(name);
        }
        var result = new string[last + 1][];
        for (int i = 0; i < groups.Length; i++)
        {
            result[i] = groups[i]?.ToArray() ?? [];
        }
        return result;
    }
}
