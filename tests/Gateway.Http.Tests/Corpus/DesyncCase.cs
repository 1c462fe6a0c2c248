using System.Text;

namespace Gateway.Http.Tests.Corpus;

internal sealed record DesyncHeader(string Name, string Value);

/// <summary>One case of the http-desync-guardian corpus (schema in its README).</summary>
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
    /// The README's serialization: request line, an added <c>Host: gw.test</c> unless the case has a Host field,
    /// each field as <c>name ": " value</c>, then the empty line. CR and LF inside elements are written raw.
    /// </summary>
    public byte[] Serialize(bool utf8ForNonAscii)
    {
        var text = new StringBuilder();
        text.Append(Unescape(Method)).Append(' ').Append(Unescape(Uri)).Append(' ').Append(Unescape(Version)).Append("\r\n");
        bool hasHost = false;
        foreach (DesyncHeader header in Headers)
        {
            hasHost |= string.Equals(Unescape(header.Name), "host", StringComparison.OrdinalIgnoreCase);
        }
        if (!hasHost)
        {
            text.Append("Host: gw.test\r\n");
        }
        foreach (DesyncHeader header in Headers)
        {
            text.Append(Unescape(header.Name)).Append(": ").Append(Unescape(header.Value)).Append("\r\n");
        }
        text.Append("\r\n");
        return Encode(text.ToString(), utf8ForNonAscii);
    }

    public bool HasHeader(string name)
    {
        foreach (DesyncHeader header in Headers)
        {
            if (string.Equals(Unescape(header.Name), name, StringComparison.OrdinalIgnoreCase))
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
            if (string.Equals(Unescape(header.Name), name, StringComparison.OrdinalIgnoreCase))
            {
                return Unescape(header.Value);
            }
        }
        return null;
    }

    public override string ToString() => $"{File}[{Index}] {Name}";

    /// <summary>
    /// The original runner's second unescape: \xNN, \r, \n, \t, \b, \f; a backslash before anything else is dropped.
    /// </summary>
    public static string Unescape(string s)
    {
        if (!s.Contains('\\'))
        {
            return s;
        }
        var result = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c != '\\' || i + 1 == s.Length)
            {
                result.Append(c);
                continue;
            }
            char next = s[++i];
            switch (next)
            {
                case 'x' when i + 2 < s.Length && char.IsAsciiHexDigit(s[i + 1]) && char.IsAsciiHexDigit(s[i + 2]):
                    result.Append((char)Convert.ToInt32(s.Substring(i + 1, 2), 16));
                    i += 2;
                    break;
                case 'r': result.Append('\r'); break;
                case 'n': result.Append('\n'); break;
                case 't': result.Append('\t'); break;
                case 'b': result.Append('\b'); break;
                case 'f': result.Append('\f'); break;
                default: result.Append(next); break;
            }
        }
        return result.ToString();
    }

    /// <summary>README step 3: U+0000-U+00FF as one octet each (or UTF-8 for non-ASCII in the variant), above as UTF-8.</summary>
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
