using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>One validated field line: <c>field-name ":" OWS field-value OWS</c> (RFC 9112 §5), shared by requests,
/// responses and trailers.</summary>
internal static class FieldLine
{
    /// <param name="line">The line without its CRLF (the scanner has checked the terminator).</param>
    /// <param name="isFirst">Whether this is the first line after the start line or last chunk (G-5).</param>
    public static RequestRejection Parse(
        ReadOnlySpan<byte> line, bool isFirst, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        // A valid line, the common case, in two searches: the first octet that is not a token character is the colon,
        // after a name (so neither whitespace, CR nor NUL came before it), and the value has no invalid octet. A line
        // that fails either is classified below, in the rules' order.
        int colon = line.IndexOfAnyExcept(Token);
        if (colon > 0 && line[colon] == (byte)':' && !line[(colon + 1)..].ContainsAny(InvalidValueChars))
        {
            name = line[..colon];
            value = TrimOws(line[(colon + 1)..]);
            return RequestRejection.None;
        }
        return Classify(line, isFirst, out name, out value);
    }

    private static RequestRejection Classify(
        ReadOnlySpan<byte> line, bool isFirst, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        name = default;
        value = default;

        // HF-4 / G-5: a line starting with whitespace is a fold or hides a field from other parsers.
        if (IsOws(line[0]))
        {
            return isFirst ? RequestRejection.WhitespaceBeforeFirstHeader : RequestRejection.ObsFold;
        }
        // G-2, G-3: checked before anything else so they are never reported as a lesser error.
        int control = line.IndexOfAny(CR, (byte)0);
        if (control >= 0)
        {
            return line[control] == CR ? RequestRejection.BareCr : RequestRejection.Nul;
        }
        int colon = line.IndexOf((byte)':');
        if (colon < 0)
        {
            return RequestRejection.MissingColon; // HF-1
        }
        name = line[..colon];
        if (name.IsEmpty)
        {
            return RequestRejection.InvalidHeaderName; // HF-2: empty name (CVE-2023-25725)
        }
        int bad = name.IndexOfAnyExcept(Token);
        if (bad >= 0)
        {
            // HF-3: "Name :" or "Name\t:" is whitespace before the colon; anything else is a bad name (HF-2).
            return name[bad..].ContainsAnyExcept(SP, HTAB)
                ? RequestRejection.InvalidHeaderName
                : RequestRejection.WhitespaceBeforeColon;
        }
        value = TrimOws(line[(colon + 1)..]); // HF-5
        return value.ContainsAny(InvalidValueChars) ? RequestRejection.InvalidHeaderValue : RequestRejection.None; // HF-6
    }

    /// <summary>
    /// HF-7: a valid token that reads as Content-Length or Transfer-Encoding once "_" is taken for "-" and runs of
    /// dashes collapse, as CGI-style stacks do. The exact names themselves are not lookalikes.
    /// </summary>
    public static bool IsFramingLookalike(ReadOnlySpan<byte> name) =>
        name.Length >= "content-length".Length && name.ContainsAny((byte)'_', (byte)'-') && FoldsToFramingName(name);

    private static bool FoldsToFramingName(ReadOnlySpan<byte> name)
    {
        Span<byte> folded = stackalloc byte[32];
        int length = 0;
        foreach (byte b in name)
        {
            byte c = b == (byte)'_' ? (byte)'-' : (byte)(b | 0x20);
            if (c == (byte)'-' && length > 0 && folded[length - 1] == (byte)'-')
            {
                continue;
            }
            if (length == folded.Length)
            {
                return false;
            }
            folded[length++] = c;
        }
        ReadOnlySpan<byte> result = folded[..length];
        bool folds = result.SequenceEqual("content-length"u8) || result.SequenceEqual("transfer-encoding"u8);
        return folds && (length != name.Length || name.Contains((byte)'_'));
    }
}
