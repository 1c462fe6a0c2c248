using System.Buffers;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>
/// First pass over a message head: finds the empty line that ends it without decoding anything, and enforces
/// the size and count limits while the head is still incomplete, so a peer cannot grow the pipe without bound
/// waiting for a terminator (HF-9, RL-6, NET-5). Line terminators are checked here (G-1): every LF must follow a CR.
/// A limit is reported at the first byte that breaks it, so a head delivered whole and one trickled byte by byte
/// get the same verdict. A head that lies whole in one span is first tried by <see cref="WholeHeadScan"/>, which
/// takes only heads this scan accepts; every other verdict is this scan's.
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
        var limits = new Limits(allowLeadingCrlf, maxStartLineBytes, maxFieldLineBytes, maxHeaderBytes, maxFieldCount);
        // A socket pipe keeps what it has read in one buffer, so a head almost always lies in one span.
        if (reader.UnreadSpan.Length == reader.Remaining)
        {
            // No line of a head this short can reach a line or section limit.
            int shortest = Math.Min(maxStartLineBytes, Math.Min(maxFieldLineBytes, maxHeaderBytes));
            if (WholeHeadScan.TryFind(reader.UnreadSpan, shortest, maxFieldCount, out int length))
            {
                leading = 0;
                headLength = length;
                rejection = RequestRejection.None;
                return ParseStatus.Complete;
            }
            var span = new SpanLines(reader.UnreadSpan);
            return Scan(ref span, limits, out leading, out headLength, out rejection);
        }
        var sequence = new SequenceLines(reader);
        return Scan(ref sequence, limits, out leading, out headLength, out rejection);
    }

    private static ParseStatus Scan<TLines>(
        ref TLines lines, in Limits limits, out int leading, out long headLength, out RequestRejection rejection)
        where TLines : struct, ILines, allows ref struct
    {
        leading = 0;
        headLength = 0;
        rejection = RequestRejection.None;

        if (limits.AllowLeadingCrlf && lines.TryPeek(0, out byte first) && first == CR)
        {
            if (!lines.TryPeek(1, out byte second))
            {
                return ParseStatus.Incomplete;
            }
            if (second == LF)
            {
                leading = 2;
                lines.Advance(2);
            }
        }

        long start = lines.Consumed;

        // Start line: its content (without CRLF) may not exceed the limit (RL-6 → 414).
        long startLineLimitAt = (long)limits.MaxStartLineBytes + 2;
        if (!lines.TryPassLf())
        {
            return lines.Remaining >= startLineLimitAt ? Reject(RequestRejection.TargetTooLong, out rejection) : ParseStatus.Incomplete;
        }
        long lineLength = lines.Consumed - start - 1;
        if (lineLength >= startLineLimitAt)
        {
            return Reject(RequestRejection.TargetTooLong, out rejection);
        }
        if (lineLength == 0 || !lines.CrBeforeLf())
        {
            return Reject(RequestRejection.BareLf, out rejection);
        }
        if (lineLength == 1)
        {
            return Reject(RequestRejection.InvalidRequestLine, out rejection); // a second empty line first (G-4)
        }

        long sectionStart = lines.Consumed;
        int fields = 0;
        while (true)
        {
            long lineStart = lines.Consumed;
            long sectionBefore = lineStart - sectionStart;
            // The first line length (LF excluded) at which each limit breaks: the section needs this line's LF
            // within maxHeaderBytes (HF-9 → 431); a field line's content may not exceed maxFieldLineBytes.
            long sectionLimitAt = limits.MaxHeaderBytes - sectionBefore;
            long lineLimitAt = (long)limits.MaxFieldLineBytes + 2;
            RequestRejection limit = sectionLimitAt <= lineLimitAt ? RequestRejection.HeadersTooLarge : RequestRejection.FieldLineTooLarge;
            long limitAt = Math.Min(sectionLimitAt, lineLimitAt);

            if (!lines.TryPassLf())
            {
                return lines.Remaining >= limitAt ? Reject(limit, out rejection) : ParseStatus.Incomplete;
            }
            long length = lines.Consumed - lineStart - 1;
            if (length >= limitAt)
            {
                return Reject(limit, out rejection);
            }
            if (length == 0 || !lines.CrBeforeLf())
            {
                return Reject(RequestRejection.BareLf, out rejection);
            }
            if (length == 1)
            {
                headLength = lines.Consumed - start;
                return ParseStatus.Complete;
            }
            if (++fields > limits.MaxFieldCount)
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

    private readonly record struct Limits(
        bool AllowLeadingCrlf, int MaxStartLineBytes, int MaxFieldLineBytes, int MaxHeaderBytes, int MaxFieldCount);

    /// <summary>The buffered bytes, walked line by line.</summary>
    private interface ILines
    {
        long Consumed { get; }

        long Remaining { get; }

        bool TryPeek(int offset, out byte value);

        void Advance(int count);

        /// <summary>Moves past the next LF; false, without moving, when none is buffered yet.</summary>
        bool TryPassLf();

        /// <summary>Whether the LF just passed follows a CR; only after a line of at least one byte.</summary>
        bool CrBeforeLf();
    }

    private ref struct SpanLines(ReadOnlySpan<byte> bytes) : ILines
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _position;

        public readonly long Consumed => _position;

        public readonly long Remaining => _bytes.Length - _position;

        public readonly bool TryPeek(int offset, out byte value)
        {
            int at = _position + offset;
            value = at < _bytes.Length ? _bytes[at] : (byte)0;
            return at < _bytes.Length;
        }

        public void Advance(int count) => _position += count;

        public bool TryPassLf()
        {
            int lf = _bytes[_position..].IndexOf(LF);
            if (lf < 0)
            {
                return false;
            }
            _position += lf + 1;
            return true;
        }

        public readonly bool CrBeforeLf() => _bytes[_position - 2] == CR;
    }

    private ref struct SequenceLines(SequenceReader<byte> reader) : ILines
    {
        private SequenceReader<byte> _reader = reader;

        public readonly long Consumed => _reader.Consumed;

        public readonly long Remaining => _reader.Remaining;

        public readonly bool TryPeek(int offset, out byte value) => _reader.TryPeek(offset, out value);

        public void Advance(int count) => _reader.Advance(count);

        public bool TryPassLf() => _reader.TryAdvanceTo(LF, advancePastDelimiter: true);

        public readonly bool CrBeforeLf()
        {
            SequenceReader<byte> back = _reader;
            back.Rewind(2);
            return back.TryPeek(out byte b) && b == CR;
        }
    }
}
