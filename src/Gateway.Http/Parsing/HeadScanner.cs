using System.Buffers;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>
/// First pass over a message head: finds the empty line that ends it without decoding anything, and enforces
/// the size and count limits while the head is still incomplete, so a peer cannot grow the pipe without bound
/// waiting for a terminator (HF-9, RL-6, NET-5). Line terminators are checked here (G-1): every LF must follow a CR.
/// </summary>
internal static class HeadScanner
{
    /// <param name="reader">A copy of the caller's reader; it is never advanced for the caller.</param>
    /// <param name="leading">Bytes of the one CRLF allowed before a request line (G-4), 0 or 2.</param>
    /// <param name="headLength">Bytes from the start line through the final CRLF.</param>
    public static ParseStatus Scan(
        SequenceReader<byte> reader,
        bool allowLeadingCrlf,
        int maxStartLineBytes,
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
        if (!reader.TryAdvanceTo(LF, advancePastDelimiter: true))
        {
            long pending = reader.Remaining;
            // `pending` may include the CR of a CRLF still to come.
            return Fail(pending > (long)maxStartLineBytes + 1, RequestRejection.TargetTooLong, out rejection);
        }
        long lineLength = reader.Consumed - start - 1;
        if (lineLength > (long)maxStartLineBytes + 1)
        {
            rejection = RequestRejection.TargetTooLong;
            return ParseStatus.Rejected;
        }
        if (!EndsWithCr(reader, lineLength))
        {
            rejection = RequestRejection.BareLf;
            return ParseStatus.Rejected;
        }
        if (lineLength == 1)
        {
            // A second empty line before the request line (G-4).
            rejection = RequestRejection.InvalidRequestLine;
            return ParseStatus.Rejected;
        }

        long sectionStart = reader.Consumed;
        int fields = 0;
        while (true)
        {
            long lineStart = reader.Consumed;
            if (!reader.TryAdvanceTo(LF, advancePastDelimiter: true))
            {
                // The section needs at least one more LF beyond what is buffered (HF-9 → 431).
                long soFar = reader.Consumed - sectionStart + reader.Remaining;
                return Fail(soFar + 1 > maxHeaderBytes, RequestRejection.HeadersTooLarge, out rejection);
            }
            if (reader.Consumed - sectionStart > maxHeaderBytes)
            {
                rejection = RequestRejection.HeadersTooLarge;
                return ParseStatus.Rejected;
            }
            long length = reader.Consumed - lineStart - 1;
            if (!EndsWithCr(reader, length))
            {
                rejection = RequestRejection.BareLf;
                return ParseStatus.Rejected;
            }
            if (length == 1)
            {
                headLength = reader.Consumed - start;
                return ParseStatus.Complete;
            }
            if (++fields > maxFieldCount)
            {
                rejection = RequestRejection.TooManyHeaders;
                return ParseStatus.Rejected;
            }
        }
    }

    private static ParseStatus Fail(bool overLimit, RequestRejection reason, out RequestRejection rejection)
    {
        rejection = overLimit ? reason : RequestRejection.None;
        return overLimit ? ParseStatus.Rejected : ParseStatus.Incomplete;
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
