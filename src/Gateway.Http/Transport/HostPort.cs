using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Http.Transport;

/// <summary>
/// An endpoint written <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[v6]:port</c>: config endpoints (clusters, Redis)
/// and the addresses Redis reports are all read by this one parser.
/// </summary>
public readonly record struct HostPort(string Host, int Port)
{
    public static bool TryParse(string text, out HostPort value)
    {
        value = default;
        string host;
        ReadOnlySpan<char> port;
        if (text.StartsWith('['))
        {
            // RFC 3986 §3.2.2: an IPv6 literal is bracketed so its colons are not the port's.
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0 || !IPAddress.TryParse(text.AsSpan(1, close - 1), out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            host = text[1..close];
            port = text.AsSpan(close + 2);
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':') != colon)
            {
                return false;
            }

            host = text[..colon];
            port = text.AsSpan(colon + 1);
            if (!IsHostName(host))
            {
                return false;
            }
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            return false;
        }

        value = new HostPort(host, number);
        return true;
    }

    /// <summary>
    /// A DNS name (RFC 1123 §2.1: letters, digits, hyphens, labels of 1–63; underscores tolerated as
    /// resolvers do) or an IPv4 literal.
    /// </summary>
    public static bool IsHostName(string host)
    {
        if (host.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>An IP literal as an <see cref="IPEndPoint"/>, a name as a <see cref="DnsEndPoint"/> resolved at connect time.</summary>
    public EndPoint ToEndPoint() =>
        IPAddress.TryParse(Host, out var address) ? new IPEndPoint(address, Port) : new DnsEndPoint(Host, Port);

    public override string ToString() =>
        Host.Contains(':') ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
