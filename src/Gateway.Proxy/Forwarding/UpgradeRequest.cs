using Gateway.Http.Messages;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The one hop-by-hop exception (UP-1, UP-3, UP-4): an HTTP/1.1 GET carrying <c>Connection: upgrade</c> and
/// <c>Upgrade</c> keeps both fields upstream when its route allows the protocol, and only a 101 naming a protocol
/// the client offered switches the connection into a tunnel.
/// </summary>
internal static class UpgradeRequest
{
    /// <summary>The client's <c>Upgrade</c> value when the request asks to switch protocols; read before hop-by-hop fields go.</summary>
    public static string? Offered(HttpRequestHead request)
    {
        // UP-1: HTTP/1.0 upgrades are ignored; WebSocket (the protocol routes allow by default) needs GET, and a
        // body never comes with an upgrade (the parser refuses that, UP-2).
        if (request.MinorVersion < 1 || request.Method != "GET")
        {
            return null;
        }
        string? upgrade = request.Headers.Get("upgrade");
        return upgrade is not null && HasUpgradeOption(request.Headers) ? upgrade : null;
    }

    /// <summary>The offered protocols the route allows, comma-separated; null when none is (the request goes on as plain HTTP).</summary>
    public static string? Allowed(string? offered, IReadOnlyList<string> allowed)
    {
        if (offered is null || allowed.Count == 0)
        {
            return null;
        }
        string? result = null;
        foreach (Range r in offered.AsSpan().Split(','))
        {
            ReadOnlySpan<char> protocol = offered.AsSpan()[r].Trim(" \t");
            if (IsAllowed(Name(protocol), allowed))
            {
                result = result is null ? protocol.ToString() : string.Concat(result, ", ", protocol);
            }
        }
        return result;
    }

    /// <summary>Puts back the two fields hop-by-hop cleaning removed, for the plugins and the upstream.</summary>
    public static void AddFields(HeaderCollection headers, string protocols)
    {
        headers.Set("connection", "upgrade");
        headers.Set("upgrade", protocols);
    }

    /// <summary>UP-3 / UP-4: a 101 must name exactly one protocol the client offered; that protocol is returned.</summary>
    public static bool Accepts(HttpResponseHead response, string forwarded, out string protocol)
    {
        protocol = response.Headers.Get("upgrade")?.Trim() ?? "";
        if (protocol.Length == 0 || protocol.Contains(','))
        {
            return false;
        }
        ReadOnlySpan<char> chosen = Name(protocol);
        foreach (Range r in forwarded.AsSpan().Split(','))
        {
            if (Name(forwarded.AsSpan()[r].Trim(" \t")).Equals(chosen, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The response fields a 101 carries to the client.</summary>
    public static void AddResponseFields(HttpResponseHead response, string protocol)
    {
        response.Headers.Set("connection", "upgrade");
        response.Headers.Set("upgrade", protocol);
    }

    private static bool HasUpgradeOption(HeaderCollection headers)
    {
        for (int i = headers.IndexOf("connection", 0); i >= 0; i = headers.IndexOf("connection", i + 1))
        {
            string value = headers[i].Value;
            foreach (Range r in value.AsSpan().Split(','))
            {
                if (value.AsSpan()[r].Trim(" \t").Equals("upgrade", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>"websocket" of "websocket" or "WebSocket/13": the protocol name without its version.</summary>
    private static ReadOnlySpan<char> Name(ReadOnlySpan<char> protocol)
    {
        int slash = protocol.IndexOf('/');
        return slash < 0 ? protocol : protocol[..slash];
    }

    private static bool IsAllowed(ReadOnlySpan<char> name, IReadOnlyList<string> allowed)
    {
        foreach (string a in allowed)
        {
            if (name.Equals(a, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
