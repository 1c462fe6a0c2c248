using System.Buffers;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>
/// First pass over a message head: finds the empty line that ends it without decoding anything, and enforces
/// the size and count limits while the head is still incomplete, so a peer cannot grow the pipe without bound
/// waiting for a terminator (HF-9, RL-6, NET-5). Line terminators are checked here (G-1): every LF must follow a CR.
/// A limit is reported at the first byte that breaks it, so a head delivered whole and one trickled byte by byte
/// get the same verdict.
/// </summary>
internal static class HeadScanner
{
    /// <param name="reader">A copy of the caller's reader; it is never advanced for the caller.</param>
    /// <param name="maxFieldLineBytes">Longest field line without its CRLF.</param>
    /// <param name="leading">Bytes of the one CRLF allowed before a request line (G-4), 0 or 2.</param>
    /// <param name="headLength">Bytes from the start line through the final CRLF.</param>
    public static ParseStatus Scan(
        SequenceReader<byte> reader,
        bool allowLeadingCrlf,
        int maxStartLineBytes,
        int maxFieldLineBytes,
        int maxHeaderBytes,
        int maxFieldCount,
        out int leading,
        out long headLength,
        out RequestRejection rejection)
    {
        leading = 0;
        headLength = 0;
        rejection = RequestRejection.None;

        if (allowLeadingCrlf && reader.TryPeek(out byte first) && first == CR)
        {
            if (!reader.TryPeek(1, out byte second))
            {
                return ParseStatus.Incomplete;
            }
            if (second == LF)
            {
                leading = 2;
                reader.Advance(2);
            }
        }

        long start = reader.Consumed;

        // Start line: its content (without CRLF) may not exceed the limit (RL-6 → 414).
        long startLineLimitAt = (long)maxStartLineBytes + 2;
        if (!reader.TryAdvanceTo(LF, advancePastDelimiter: true))
        {
            return reader.Remaining >= startLineLimitAt ? Reject(RequestRejection.TargetTooLong, out rejection) : ParseStatus.Incomplete;
        }
        long lineLength = reader.Consumed - start - 1;
        if (lineLength >= startLineLimitAt)
        {
            return Reject(RequestRejection.TargetTooLong, out rejection);
        }
        if (!EndsWithCr(reader, lineLength))
        {
            return Reject(RequestRejection.BareLf, out rejection);
        }
        if (lineLength == 1)
        {
            return Reject(RequestRejection.InvalidRequestLine, out rejection); // a second empty line first (G-4)
        }

        long sectionStart = reader.Consumed;
        int fields = 0;
        while (true)
        {
            long lineStart = reader.Consumed;
            long sectionBefore = lineStart - sectionStart;
            // The first line length (LF excluded) at which each limit breaks: the section needs this line's LF
            // within maxHeaderBytes (HF-9 → 431); a field line's content may not exceed maxFieldLineBytes.
            long sectionLimitAt = maxHeaderBytes - sectionBefore;
            long lineLimitAt = (long)maxFieldLineBytes + 2;
            RequestRejection limit = sectionLimitAt <= lineLimitAt ? RequestRejection.HeadersTooLarge : RequestRejection.FieldLineTooLarge;
            long limitAt = Math.Min(sectionLimitAt, lineLimitAt);

            if (!reader.TryAdvanceTo(LF, advancePastDelimiter: true))
            {
                return reader.Remaining >= limitAt ? Reject(limit, out rejection) : ParseStatus.Incomplete;
            }
            long length = reader.Consumed - lineStart - 1;
            if (length >= limitAt)
            {
                return Reject(limit, out rejection);
            }
            if (!EndsWithCr(reader, length))
            {
                return Reject(RequestRejection.BareLf, out rejection);
            }
            if (length == 1)
            {
                headLength = reader.Consumed - start;
                return ParseStatus.Complete;
            }
            if (++fields > maxFieldCount)
            {
                return Reject(RequestRejection.TooManyHeaders, out rejection);
            }
        }
    }

    private static ParseStatus Reject(RequestRejection reason, out RequestRejection rejection)
    {
        rejection = reason;
        return ParseStatus.Rejected;
    }

    /// <summary>Whether the line of <paramref name="length"/> bytes just passed (LF consumed) ends with CR.</summary>
    private static bool EndsWithCr(SequenceReader<byte> reader, long length)
    {
        if (length == 0)
        {
            return false;
        }
        reader.Rewind(2);
        return reader.TryPeek(out byte b) && b == CR;
    }
}
