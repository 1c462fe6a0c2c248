using System.Text;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>
/// H-3: <c>uri-host [ ":" port ]</c> (RFC 9110 §7.2, RFC 3986 §3.2.2) with a reg-name, IPv4 address or bracketed
/// IPv6 literal; port of 1 to 5 digits up to 65535. No userinfo, path, whitespace or comma list (H-2).
/// </summary>
internal static class Authority
{
    private const int MaxLength = 1024;

    /// <summary>Validates and lower-cases an authority; null when invalid.</summary>
    public static string? Normalize(ReadOnlySpan<byte> authority)
    {
        if (authority.IsEmpty || authority.Length > MaxLength)
        {
            return null;
        }
        int hostEnd;
        if (authority[0] == (byte)'[')
        {
            int close = authority.IndexOf((byte)']');
            if (close < 2 || authority[1..close].ContainsAnyExcept(IpLiteralChars))
            {
                return null;
            }
            hostEnd = close + 1;
        }
        else
        {
            int colon = authority.IndexOf((byte)':');
            hostEnd = colon < 0 ? authority.Length : colon;
            ReadOnlySpan<byte> host = authority[..hostEnd];
            if (host.IsEmpty || host.ContainsAnyExcept(RegNameChars) || !HasValidPercentEncoding(host))
            {
                return null;
            }
        }
        if (hostEnd < authority.Length && !IsValidPort(authority, hostEnd))
        {
            return null;
        }
        Span<byte> lower = stackalloc byte[authority.Length];
        Ascii.ToLower(authority, lower, out _);
        return Latin1StringCache.Current.Get(lower);
    }

    /// <summary>Equal after dropping the scheme's default port (H-4: compare after normalization).</summary>
    public static bool AreEquivalent(string a, string b, bool https)
    {
        return WithoutDefaultPort(a, https).SequenceEqual(WithoutDefaultPort(b, https));
    }

    private static ReadOnlySpan<char> WithoutDefaultPort(string authority, bool https)
    {
        ReadOnlySpan<char> port = https ? ":443" : ":80";
        return authority.AsSpan().EndsWith(port, StringComparison.Ordinal)
            ? authority.AsSpan(0, authority.Length - port.Length)
            : authority.AsSpan();
    }

    private static bool IsValidPort(ReadOnlySpan<byte> authority, int colon)
    {
        if (authority[colon] != (byte)':')
        {
            return false;
        }
        ReadOnlySpan<byte> port = authority[(colon + 1)..];
        if (port.IsEmpty || port.Length > 5)
        {
            return false;
        }
        int value = 0;
        foreach (byte b in port)
        {
            if (!IsDigit(b))
            {
                return false;
            }
            value = value * 10 + (b - '0');
        }
        return value <= 65535;
    }

    /// <summary>Every "%" is followed by two hex digits (RFC 3986 §2.1).</summary>
    public static bool HasValidPercentEncoding(ReadOnlySpan<byte> s)
    {
        int i = s.IndexOf((byte)'%');
        while (i >= 0)
        {
            if (i + 2 >= s.Length || !IsHexDigit(s[i + 1]) || !IsHexDigit(s[i + 2]))
            {
                return false;
            }
            int next = s[(i + 3)..].IndexOf((byte)'%');
            i = next < 0 ? -1 : i + 3 + next;
        }
        return true;
    }
}
