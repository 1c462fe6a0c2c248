using System.Buffers;

namespace Gateway.Http.Parsing;

/// <summary>Octet classes of the HTTP/1.1 grammar, checked on raw bytes before anything is decoded (G-7, NET-2).</summary>
internal static class HttpGrammar
{
    public const byte CR = (byte)'\r';
    public const byte LF = (byte)'\n';
    public const byte SP = (byte)' ';
    public const byte HTAB = (byte)'\t';

    /// <summary>tchar, RFC 9110 §5.6.2.</summary>
    public static readonly SearchValues<byte> Token = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>
    /// Octets allowed in an origin-form path and query (RL-5, RFC 3986 §2.2, §2.3, §3.3, §3.4): unreserved,
    /// sub-delims, ":" "@" "/" "?" and "%" (whose two hex digits are checked separately).
    /// </summary>
    public static readonly SearchValues<byte> TargetChars = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"u8);

    /// <summary>reg-name octets of a host (RFC 3986 §3.2.2) without "%" and without "," (H-2 rejects comma lists).</summary>
    public static readonly SearchValues<byte> RegNameChars = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+;=%"u8);

    /// <summary>Octets inside an IP-literal we accept: IPv6address and its embedded IPv4 (RFC 3986 §3.2.2).</summary>
    public static readonly SearchValues<byte> IpLiteralChars = SearchValues.Create(
        "0123456789ABCDEFabcdef:."u8);

    /// <summary>
    /// Octets never allowed in a field value or reason phrase after OWS trimming (HF-6, RFC 9110 §5.5):
    /// every CTL except HTAB, and DEL. CR, LF and NUL are reported separately before this check.
    /// </summary>
    public static readonly SearchValues<byte> InvalidValueChars = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F"u8);

    public static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && !s.ContainsAnyExcept(Token);

    public static bool IsTokenChar(byte b) => Token.Contains(b);

    public static bool IsOws(byte b) => b == SP || b == HTAB;

    public static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    public static bool IsHexDigit(byte b) => HexValue(b) >= 0;

    public static int HexValue(byte b)
    {
        if ((uint)(b - '0') <= 9)
        {
            return b - '0';
        }
        int lower = b | 0x20;
        return (uint)(lower - 'a') <= 5 ? lower - 'a' + 10 : -1;
    }

    /// <summary>Strips only SP and HTAB (RFC 9110 §5.6.3 OWS); never VT, FF, NEL or NBSP (NET-3).</summary>
    public static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> s)
    {
        int start = 0;
        while (start < s.Length && IsOws(s[start]))
        {
            start++;
        }
        int end = s.Length;
        while (end > start && IsOws(s[end - 1]))
        {
            end--;
        }
        return s[start..end];
    }

    /// <summary>
    /// Splits the next element off a comma-separated list (RFC 9110 §5.6.1); the element is OWS-trimmed.
    /// <paramref name="more"/> tells whether a comma followed, so "a," yields a final empty element that callers reject.
    /// </summary>
    public static ReadOnlySpan<byte> NextListElement(ref ReadOnlySpan<byte> list, out bool more)
    {
        int comma = list.IndexOf((byte)',');
        ReadOnlySpan<byte> element;
        if (comma < 0)
        {
            element = list;
            list = default;
            more = false;
        }
        else
        {
            element = list[..comma];
            list = list[(comma + 1)..];
            more = true;
        }
        return TrimOws(element);
    }
}
