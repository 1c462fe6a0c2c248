using System.Text;

namespace Gateway.Http.Tests.Corpus;

internal sealed record DesyncHeader(string Name, string Value);

/// <summary>One request-smuggling case of tests/data/http-desync (format in that folder's README).</summary>
internal sealed record DesyncCase(
    string File,
    int Index,
    string Name,
    string Method,
    string Uri,
    string Version,
    IReadOnlyList<DesyncHeader> Headers,
    string Tier,
    string Reason)
{
    /// <summary>
    /// Request line, an added <c>Host: gw.test</c> unless the case has a Host field (HTTP/1.1 without Host is always
    /// refused, which would hide what the case is about), each field as <c>name ": " value</c>, then the empty line.
    /// CR and LF inside elements are written raw: they make the broken line structure the case is about.
    /// </summary>
    public byte[] Serialize(bool utf8ForNonAscii)
    {
        var text = new StringBuilder();
        text.Append(Method).Append(' ').Append(Uri).Append(' ').Append(Version).Append("\r\n");
        bool hasHost = false;
        foreach (DesyncHeader header in Headers)
        {
            hasHost |= string.Equals(header.Name, "host", StringComparison.OrdinalIgnoreCase);
        }
        if (!hasHost)
        {
            text.Append("Host: gw.test\r\n");
        }
        foreach (DesyncHeader header in Headers)
        {
            text.Append(header.Name).Append(": ").Append(header.Value).Append("\r\n");
        }
        text.Append("\r\n");
        return Encode(text.ToString(), utf8ForNonAscii);
    }

    public bool HasHeader(string name)
    {
        foreach (DesyncHeader header in Headers)
        {
            if (string.Equals(header.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    public string? HeaderValue(string name)
    {
        foreach (DesyncHeader header in Headers)
        {
            if (string.Equals(header.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }
        return null;
    }

    public override string ToString() => $"{File}[{Index}] {Name}";

    /// <summary>U+0000-U+00FF as one octet each (or UTF-8 for non-ASCII in the variant), above as UTF-8.</summary>
    private static byte[] Encode(string text, bool utf8ForNonAscii)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> buffer = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c < 0x80 || (c <= 0xFF && !utf8ForNonAscii))
            {
                bytes.Add((byte)c);
                continue;
            }
            int length = char.IsHighSurrogate(c) && i + 1 < text.Length
                ? Encoding.UTF8.GetBytes(text.AsSpan(i++, 2), buffer)
                : Encoding.UTF8.GetBytes(text.AsSpan(i, 1), buffer);
            for (int k = 0; k < length; k++)
            {
                bytes.Add(buffer[k]);
            }
        }
        return bytes.ToArray();
    }
}
