using System.Net;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// Cleans fields that belong to one hop (HOP-1..HOP-3) and the forwarding fields a client may not set (FW-2), which
/// the gateway adds itself (<see cref="ForwardingLines"/>). Connection options are applied to received fields only,
/// before the gateway adds its own, so a client can never strip what the gateway sets.
/// </summary>
internal static class ForwardingHeaders
{
    // HOP-3: options that name these are refused: they are framing, routing or gateway-owned fields.
    private static readonly string[] Protected =
        ["host", "content-length", "transfer-encoding", "authorization", "x-forwarded-for", "x-forwarded-proto",
         "x-forwarded-host", "x-request-id", "via", "forwarded"];

    /// <summary>Removes hop-by-hop fields; false when a Connection option is not a token or names a protected field.</summary>
    public static bool RemoveHopByHop(HeaderCollection headers) => RemoveHopByHop(headers, refuseProtected: true);

    /// <summary>The X-Forwarded-For value of a client address; a connection computes it once for all its requests.</summary>
    public static string ForwardedFor(IPAddress? client) =>
        client is null ? "unknown" : client.IsIPv4MappedToIPv6 ? client.MapToIPv4().ToString() : client.ToString();

    /// <summary>
    /// FW-2: removes the forwarding fields a client sent, which only the gateway sets (<see cref="ForwardingLines"/>), in
    /// one pass; returns the client's first usable X-Request-Id, kept as the only one, or null when none is left.
    /// </summary>
    public static string? RemoveClientFields(HeaderCollection headers)
    {
        string? requestId = null;
        int i = 0;
        while (i < headers.Count)
        {
            (string name, string value) = headers[i];
            // Names are stored in lower case; most differ in length from all six.
            bool remove = name.Length switch
            {
                9 => name == "forwarded",
                12 => name == "x-request-id" && !TakeRequestId(value, ref requestId),
                15 => name == "x-forwarded-for",
                16 => name is "x-forwarded-host" or "x-forwarded-port",
                17 => name == "x-forwarded-proto",
                _ => false,
            };
            if (remove)
            {
                headers.RemoveAt(i);
            }
            else
            {
                i++;
            }
        }
        return requestId;
    }

    /// <summary>
    /// Removes hop-by-hop fields from an upstream response (RS-9); an upstream may name any field. A head that still holds
    /// only the field lines its parser kept has none.
    /// </summary>
    public static void CleanResponse(HttpResponseHead response)
    {
        if (!response.HoldsFieldLines)
        {
            RemoveHopByHop(response.Headers, refuseProtected: false);
        }
    }

    private static bool RemoveHopByHop(HeaderCollection headers, bool refuseProtected)
    {
        for (int i = headers.IndexOf("connection", 0); i >= 0; i = headers.IndexOf("connection", i + 1))
        {
            string value = headers[i].Value;
            foreach (Range r in value.AsSpan().Split(','))
            {
                ReadOnlySpan<char> option = value.AsSpan()[r].Trim(" \t");
                if (option.IsEmpty || option.Equals("close", StringComparison.OrdinalIgnoreCase) ||
                    option.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                if (!IsToken(option) || IsProtected(option))
                {
                    if (refuseProtected)
                    {
                        return false;
                    }
                    continue;
                }
                headers.Remove(option.ToString());
            }
        }
        headers.RemoveWhere(IsAlwaysHopByHopField);
        return true;
    }

    private static readonly Func<string, bool> IsAlwaysHopByHopField = HopByHopFields.IsAlways;

    private static bool IsProtected(ReadOnlySpan<char> option)
    {
        foreach (string p in Protected)
        {
            if (option.Equals(p, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static bool TakeRequestId(string id, ref string? taken)
    {
        if (taken is not null || !IsAcceptableRequestId(id))
        {
            return false;
        }
        taken = id;
        return true;
    }

    private static bool IsAcceptableRequestId(string id)
    {
        if (id.Length is 0 or > 128)
        {
            return false;
        }
        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsToken(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }
        return true;
    }
}
