using System.Text;

namespace Gateway.Perf.Load;

/// <summary>
/// The bytes of one GET request, optionally with one header whose value changes
/// per request (<c>prefix + number</c>), so a scenario can defeat a cache
/// (every API key new) without building strings on the send path.
/// </summary>
public sealed class RequestTemplate
{
    private readonly byte[] _head;          // request line and fixed headers, no final CRLF
    private readonly byte[]? _varyingName;  // "\r\nname: prefix"

    public RequestTemplate(string host, int port, string path, IReadOnlyList<KeyValuePair<string, string>> headers,
        string? varyingHeader = null, string varyingPrefix = "", long varyingStart = 0)
    {
        var text = new StringBuilder();
        text.Append("GET ").Append(path).Append(" HTTP/1.1\r\nHost: ").Append(host).Append(':').Append(port);
        foreach (var header in headers)
        {
            text.Append("\r\n").Append(header.Key).Append(": ").Append(header.Value);
        }
        _head = Encoding.ASCII.GetBytes(text.ToString());
        if (varyingHeader is not null)
        {
            _varyingName = Encoding.ASCII.GetBytes("\r\n" + varyingHeader + ": " + varyingPrefix);
        }
        VaryingStart = varyingStart;
        Host = host;
        Port = port;
    }

    public string Host { get; }

    public int Port { get; }

    public long VaryingStart { get; }

    /// <summary>Writes request number <paramref name="index"/> into <paramref name="buffer"/>; returns its length.</summary>
    public int Write(Span<byte> buffer, long index)
    {
        _head.CopyTo(buffer);
        var length = _head.Length;
        if (_varyingName is not null)
        {
            _varyingName.CopyTo(buffer[length..]);
            length += _varyingName.Length;
            (VaryingStart + index).TryFormat(buffer[length..], out var digits);
            length += digits;
        }
        "\r\n\r\n"u8.CopyTo(buffer[length..]);
        return length + 4;
    }

    public int MaxLength => _head.Length + (_varyingName?.Length ?? 0) + 24;
}
