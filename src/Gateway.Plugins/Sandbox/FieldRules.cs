using System.Buffers;

namespace Gateway.Plugins.Sandbox;

/// <summary>
/// The syntax every header name, value and pseudo-header a plugin writes must have before it reaches a message the
/// gateway serializes: a CR, LF or NUL in a value would otherwise start a new header line (response splitting on the
/// client side, request smuggling on a pooled upstream connection). Strings are Latin-1, one char per octet.
/// </summary>
internal static class FieldRules
{
    /// <summary>tchar (RFC 9110 token).</summary>
    private static readonly SearchValues<char> TokenChars = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>tchar without the upper-case letters: a field name as the gateway stores it, checked in one search.</summary>
    private static readonly SearchValues<char> LowerTokenChars = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz");

    /// <summary>Every control octet except HTAB, and DEL: never part of a field value (RFC 9110 field-value).</summary>
    private static readonly SearchValues<char> ValueControls = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");

    /// <summary>Octets of an origin-form path and query: unreserved, sub-delims, ":" "@" "/" "?" and "%".</summary>
    private static readonly SearchValues<char> TargetChars = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%");

    /// <summary>reg-name octets of a host, without "," (a list is never one authority).</summary>
    private static readonly SearchValues<char> HostChars = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+;=%");

    private static readonly SearchValues<char> IpLiteralChars = SearchValues.Create("0123456789ABCDEFabcdef:.");

    public static bool IsToken(string s) => s.Length > 0 && !s.AsSpan().ContainsAnyExcept(TokenChars);

    /// <summary>A header name as the gateway stores it: a token in lower case.</summary>
    public static bool IsFieldName(string s) => s.Length > 0 && !s.AsSpan().ContainsAnyExcept(LowerTokenChars);

    /// <summary>No control octet but HTAB, nothing above Latin-1, and no leading or trailing whitespace.</summary>
    public static bool IsFieldValue(string s)
    {
        if (s.AsSpan().ContainsAny(ValueControls) || s.AsSpan().ContainsAnyInRange('\u0100', '\uFFFF'))
        {
            return false;
        }
        return s.Length == 0 || (!IsWhitespace(s[0]) && !IsWhitespace(s[^1]));
    }

    /// <summary>An origin-form target: "/" then path and query octets, every "%" followed by two hex digits.</summary>
    public static bool IsOriginForm(string s)
    {
        if (s.Length == 0 || s[0] != '/' || s.AsSpan().ContainsAnyExcept(TargetChars))
        {
            return false;
        }
        for (int i = s.IndexOf('%'); i >= 0; i = s.IndexOf('%', i + 1))
        {
            if (i + 2 >= s.Length || !char.IsAsciiHexDigit(s[i + 1]) || !char.IsAsciiHexDigit(s[i + 2]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>host [ ":" port ]: a reg-name or a bracketed IP literal, a port of up to five digits.</summary>
    public static bool IsAuthority(string s)
    {
        if (s.Length == 0)
        {
            return false;
        }
        ReadOnlySpan<char> host;
        ReadOnlySpan<char> rest;
        if (s[0] == '[')
        {
            int close = s.IndexOf(']');
            if (close < 2 || s.AsSpan(1, close - 1).ContainsAnyExcept(IpLiteralChars))
            {
                return false;
            }
            host = s.AsSpan(0, close + 1);
            rest = s.AsSpan(close + 1);
        }
        else
        {
            int colon = s.IndexOf(':');
            host = colon < 0 ? s : s.AsSpan(0, colon);
            rest = colon < 0 ? [] : s.AsSpan(colon);
            if (host.IsEmpty || host.ContainsAnyExcept(HostChars))
            {
                return false;
            }
        }
        if (rest.IsEmpty)
        {
            return true;
        }
        var port = rest[1..];
        return rest[0] == ':' && port.Length is > 0 and <= 5 && !port.ContainsAnyExceptInRange('0', '9');
    }

    /// <summary>A final status the gateway can frame: three digits, 200 to 599.</summary>
    public static bool TryParseStatus(string s, out int status)
    {
        status = 0;
        if (s.Length != 3 || s.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }
        status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        return status is >= 200 and <= 599;
    }

    /// <summary>
    /// Connection-scoped fields: the gateway alone decides them for each hop. A plugin that adds
    /// <c>connection: upgrade</c> upstream could switch a pooled connection to another protocol.
    /// </summary>
    public static bool IsHopByHop(string name) =>
        name is "connection" or "keep-alive" or "proxy-connection" or "te" or "upgrade";

    /// <summary>The framing fields: the HTTP layer computes them from the body it sends.</summary>
    public static bool IsFraming(string name) => name is "content-length" or "transfer-encoding";

    private static bool IsWhitespace(char c) => c is ' ' or '\t';
}
