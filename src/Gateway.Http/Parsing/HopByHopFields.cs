using System.Text;

namespace Gateway.Http.Parsing;

/// <summary>
/// HOP-1: the fields that describe one connection and never pass a proxy, whatever Connection says, in one list for
/// the parsed form (lower-case strings) and the wire form (bytes in any case).
/// </summary>
public static class HopByHopFields
{
    private static readonly string[] s_always =
    [
        "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "trailer",
        "proxy-authorization", "proxy-authenticate", "http2-settings",
    ];

    // The list again by length, so a name is compared only with those as long as it.
    private static readonly string[][] s_byLength = ByLength(s_always);

    /// <summary>Whether a lower-case field name is always hop-by-hop.</summary>
    public static bool IsAlways(string name)
    {
        if ((uint)name.Length < (uint)s_byLength.Length)
        {
            foreach (string field in s_byLength[name.Length])
            {
                if (string.Equals(field, name, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>Whether a validated field name, in any case, is always hop-by-hop.</summary>
    public static bool IsAlways(ReadOnlySpan<byte> name)
    {
        if ((uint)name.Length < (uint)s_byLength.Length)
        {
            foreach (string field in s_byLength[name.Length])
            {
                if (Ascii.EqualsIgnoreCase(name, field))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static string[][] ByLength(string[] names)
    {
        var table = new string[names.Max(n => n.Length) + 1][];
        for (int length = 0; length < table.Length; length++)
        {
            table[length] = names.Where(n => n.Length == length).ToArray();
        }
        return table;
    }
}
