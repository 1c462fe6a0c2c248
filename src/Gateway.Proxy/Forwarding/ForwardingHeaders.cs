using System.Net;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// Cleans fields that belong to one hop (HOP-1..HOP-3) and adds the gateway's forwarding fields
/// (FW-2, FW-3). Connection options are applied to received fields only, before the gateway adds its
/// own, so a client can never strip what the gateway sets.
/// </summary>
internal static class ForwardingHeaders
{
    // HOP-3: options that name these are refused: they are framing, routing or gateway-owned fields.
    private static readonly string[] Protected =
        ["host", "content-length", "transfer-encoding", "authorization", "x-forwarded-for", "x-forwarded-proto",
         "x-forwarded-host", "x-request-id", "via", "forwarded"];

    /// <summary>Removes hop-by-hop fields; false when a Connection option is not a token or names a protected field.</summary>
    public static bool RemoveHopByHop(HeaderCollection headers) => RemoveHopByHop(headers, refuseProtected: true);

    /// <summary>Sets X-Forwarded-For/-Proto and X-Request-Id; client-supplied forwarding fields are not trusted (FW-2/FW-3).</summary>
    public static string AddRequestFields(HeaderCollection headers, IPAddress? client, string scheme) =>
        AddRequestFields(headers, ForwardedFor(client), scheme);

    /// <summary>The X-Forwarded-For value of a client address; a connection computes it once for all its requests.</summary>
    public static string ForwardedFor(IPAddress? client) =>
        client is null ? "unknown" : client.IsIPv4MappedToIPv6 ? client.MapToIPv4().ToString() : client.ToString();

    /// <summary>As above, with the client's X-Forwarded-For value already made.</summary>
    public static string AddRequestFields(HeaderCollection headers, string forwardedFor, string scheme)
    {
        headers.Remove("x-forwarded-host");
        headers.Remove("forwarded");
        headers.Set("x-forwarded-for", forwardedFor);
        headers.Set("x-forwarded-proto", scheme);
        string? requestId = headers.Get("x-request-id");
        if (requestId is null || !IsAcceptableRequestId(requestId))
        {
            requestId = RequestIds.Next();
            headers.Set("x-request-id", requestId);
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
