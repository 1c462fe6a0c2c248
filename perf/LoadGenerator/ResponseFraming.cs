using System.Buffers.Text;

namespace Gateway.Perf.Load;

/// <summary>
/// Finds where one HTTP/1.1 response ends in the bytes received so far
/// (RFC 9112 §6.3): a response head, then a body framed by Content-Length or
/// by the chunked coding. A bench client needs no more than this; it rejects
/// anything else instead of guessing.
/// </summary>
public static class ResponseFraming
{
    public enum Outcome
    {
        NeedMoreData,
        Complete,
        Malformed,
    }

    /// <summary>
    /// Tries to find the end of the response that starts at <paramref name="data"/>[0].
    /// On <see cref="Outcome.Complete"/>, <paramref name="length"/> is its total length.
    /// </summary>
    public static Outcome TryFrame(ReadOnlySpan<byte> data, out int length, out int status, out bool connectionClose)
    {
        length = 0;
        status = 0;
        connectionClose = false;
        var headEnd = data.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            return data.Length > 64 * 1024 ? Outcome.Malformed : Outcome.NeedMoreData;
        }
        var head = data[..headEnd];
        // status-line = HTTP-version SP status-code SP [ reason-phrase ], status-code = 3DIGIT   (RFC 9112 §4); the SP
        // before an empty reason is often left out, so the code may end the line.
        if (head.Length < 12 || !head.StartsWith("HTTP/1."u8) || head[8] != (byte)' '
            || head.Slice(9, 3).ContainsAnyExceptInRange((byte)'0', (byte)'9')
            || (head.Length > 12 && head[12] != (byte)' ' && head[12] != (byte)'\r'))
        {
            return Outcome.Malformed;
        }
        status = ((head[9] - '0') * 100) + ((head[10] - '0') * 10) + (head[11] - '0');
        if (head[7] == (byte)'0')
        {
            connectionClose = true;   // HTTP/1.0 closes unless told otherwise; we never ask it not to.
        }
        long contentLength = -1;
        var chunked = false;
        var rest = head;
        while (true)
        {
            var lineEnd = rest.IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }
            rest = rest[(lineEnd + 2)..];
            var next = rest.IndexOf("\r\n"u8);
            var line = next < 0 ? rest : rest[..next];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                return Outcome.Malformed;
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (AsciiEquals(name, "content-length"u8))
            {
                if (!Utf8Parser.TryParse(value, out long parsed, out var used) || used != value.Length)
                {
                    return Outcome.Malformed;
                }
                contentLength = parsed;
            }
            else if (AsciiEquals(name, "transfer-encoding"u8))
            {
                chunked = AsciiEquals(value, "chunked"u8);
                if (!chunked)
                {
                    return Outcome.Malformed;
                }
            }
            else if (AsciiEquals(name, "connection"u8) && AsciiEquals(value, "close"u8))
            {
                connectionClose = true;
            }
        }
        var bodyStart = headEnd + 4;
        // 1xx, 204 and 304 carry no body (RFC 9112 §6.3 rule 1); we only ever send GET.
        if (status is < 200 or 204 or 304)
        {
            length = bodyStart;
            return Outcome.Complete;
        }
        if (chunked)
        {
            return TryFrameChunked(data, bodyStart, out length);
        }
        if (contentLength < 0)
        {
            // Body delimited by close: not something our upstream or any proxy under test sends.
            return Outcome.Malformed;
        }
        if (data.Length - bodyStart < contentLength)
        {
            return Outcome.NeedMoreData;
        }
        length = bodyStart + (int)contentLength;
        return Outcome.Complete;
    }

    // chunked-body = *chunk last-chunk trailer-section CRLF   (RFC 9112 §7.1)
    private static Outcome TryFrameChunked(ReadOnlySpan<byte> data, int offset, out int length)
    {
        length = 0;
        while (true)
        {
            var lineEnd = data[offset..].IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                return Outcome.NeedMoreData;
            }
            var sizeText = data.Slice(offset, lineEnd);
            var extension = sizeText.IndexOf((byte)';');
            if (extension >= 0)
            {
                sizeText = sizeText[..extension];
            }
            // chunk-size = 1*HEXDIG, with optional whitespace before an extension. A hex parse into a long would read
            // 16 digits with the top bit set as a negative size, so more than 15 are refused (no buffer holds such a chunk).
            sizeText = sizeText.Trim(" \t"u8);
            if (sizeText.Length is 0 or > 15 || !Utf8Parser.TryParse(sizeText, out long size, out var used, 'x') || used != sizeText.Length)
            {
                return Outcome.Malformed;
            }
            offset += lineEnd + 2;
            if (size == 0)
            {
                // Trailer fields end at an empty line.
                while (true)
                {
                    var trailerEnd = data[offset..].IndexOf("\r\n"u8);
                    if (trailerEnd < 0)
                    {
                        return Outcome.NeedMoreData;
                    }
                    offset += trailerEnd + 2;
                    if (trailerEnd == 0)
                    {
                        length = offset;
                        return Outcome.Complete;
                    }
                }
            }
            if (data.Length - offset - 2 < size)
            {
                return Outcome.NeedMoreData;
            }
            offset += (int)size;
            // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF: a size that does not match the data shows here.
            if (!data.Slice(offset, 2).SequenceEqual("\r\n"u8))
            {
                return Outcome.Malformed;
            }
            offset += 2;
        }
    }

    private static bool AsciiEquals(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerCase) =>
        System.Text.Ascii.EqualsIgnoreCase(text, lowerCase);
}
