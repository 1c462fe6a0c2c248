using System.Buffers;
using Gateway.Http.Messages;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>Progress of <see cref="ChunkedDecoder.Decode"/>.</summary>
public enum ChunkStatus
{
    /// <summary>The input ended mid-frame; everything decodable was consumed (a partial trailer line is left unread).</summary>
    NeedMoreData,

    /// <summary>A slice of chunk payload was returned and the reader advanced past it.</summary>
    Data,

    /// <summary>The last chunk and the trailer section were read; the reader stands after the final CRLF.</summary>
    Complete,

    /// <summary>The body breaks a chunked-framing rule; the connection must be closed (G-8, CH-9).</summary>
    Rejected,
}

/// <summary>
/// Decoder of the chunked transfer coding (RFC 9112 §7.1) as a byte-at-a-time state machine, so it resumes across
/// any split of the input: a CR and its LF, or the digits of a size, may straddle reads (NET-5).
/// Extensions are validated to find the true end of the line (CH-4) and discarded. A fresh <c>default</c> value
/// decodes one body; assign <c>default</c> again for the next.
/// </summary>
public struct ChunkedDecoder
{
    // CH-2: 16 hex digits fill 64 bits; leading zeros count toward the cap.
    private const int MaxSizeDigits = 16;
    // CH-5: bounds on one chunk line and on extension bytes per body.
    private const int MaxChunkLineBytes = 1024;
    private const int MaxExtensionBytesPerBody = 4096;
    // LIM: trailer section.
    private const int MaxTrailerBytes = 8192;

    private State _state;
    private long _chunkRemaining;
    private long _bodyBytes;
    private long _size;
    private int _sizeDigits;
    private int _lineBytes;
    private int _extensionBytes;
    private int _trailerBytes;
    private bool _trailerSeen;

    private enum State : byte
    {
        Size,
        AfterSizeWhitespace,
        ExtensionNameStart,
        ExtensionName,
        AfterExtensionName,
        ExtensionValueStart,
        ExtensionToken,
        ExtensionQuoted,
        ExtensionQuotedPair,
        AfterExtensionValue,
        AfterExtensionValueWhitespace,
        SizeLineLf,
        Data,
        DataCr,
        DataLf,
        Trailer,
        Done,
    }

    public ChunkStatus Decode(
        ref SequenceReader<byte> input, long maxBodyBytes, HeaderCollection trailers,
        out ReadOnlySequence<byte> data, out RequestRejection rejection)
    {
        data = default;
        rejection = RequestRejection.None;
        while (true)
        {
            switch (_state)
            {
                case State.Done:
                    return ChunkStatus.Complete;
                case State.Data:
                    if (input.End)
                    {
                        return ChunkStatus.NeedMoreData;
                    }
                    long take = Math.Min(_chunkRemaining, input.Remaining);
                    data = input.UnreadSequence.Slice(0, take);
                    input.Advance(take);
                    _chunkRemaining -= take;
                    if (_chunkRemaining == 0)
                    {
                        _state = State.DataCr;
                    }
                    return ChunkStatus.Data;
                case State.Trailer:
                    ChunkStatus trailer = ReadTrailerLine(ref input, trailers, out rejection);
                    if (trailer != ChunkStatus.Data)
                    {
                        return trailer;
                    }
                    continue;
            }
            if (!input.TryRead(out byte b))
            {
                return ChunkStatus.NeedMoreData;
            }
            rejection = Step(b, maxBodyBytes);
            if (rejection != RequestRejection.None)
            {
                return ChunkStatus.Rejected;
            }
        }
    }

    /// <summary>One octet of a chunk-size line or of the CRLF after chunk data.</summary>
    private RequestRejection Step(byte b, long maxBodyBytes)
    {
        switch (_state)
        {
            case State.DataCr:
                // CH-6: exactly CRLF after chunk-size octets of data.
                if (b != CR)
                {
                    return Invalid(b, RequestRejection.InvalidChunkDataTerminator);
                }
                _state = State.DataLf;
                return RequestRejection.None;
            case State.DataLf:
                if (b != LF)
                {
                    return Invalid(b, RequestRejection.BareCr);
                }
                _state = State.Size;
                _size = 0;
                _sizeDigits = 0;
                _lineBytes = 0;
                return RequestRejection.None;
            case State.SizeLineLf:
                // CH-3: the line ends only at CR LF.
                return b == LF ? EndSizeLine(maxBodyBytes) : Invalid(b, RequestRejection.BareCr);
        }

        if (++_lineBytes > MaxChunkLineBytes)
        {
            return RequestRejection.ChunkExtensionTooLong; // CH-5
        }
        if (_state != State.Size && ++_extensionBytes > MaxExtensionBytesPerBody)
        {
            return RequestRejection.ChunkExtensionTooLong; // CH-5
        }

        switch (_state)
        {
            case State.Size:
                int digit = HexValue(b);
                if (digit >= 0)
                {
                    // CH-1, CH-2: bare hex, capped digits, checked accumulation (never wraps to a negative size).
                    if (++_sizeDigits > MaxSizeDigits || _size > (long.MaxValue - digit) >> 4)
                    {
                        return RequestRejection.InvalidChunkSize;
                    }
                    _size = (_size << 4) + digit;
                    return RequestRejection.None;
                }
                if (_sizeDigits == 0)
                {
                    return Invalid(b, RequestRejection.InvalidChunkSize); // empty size, sign, leading whitespace
                }
                return b switch
                {
                    CR => Next(State.SizeLineLf),
                    (byte)';' => Next(State.ExtensionNameStart),
                    SP or HTAB => Next(State.AfterSizeWhitespace),
                    _ => Invalid(b, RequestRejection.InvalidChunkSize), // "0x5", "5_0", ...
                };
            case State.AfterSizeWhitespace:
                // CH-4: BWS is allowed only before ";" ("5 \r\n" is a size with trailing whitespace: CH-1).
                return b switch
                {
                    SP or HTAB => RequestRejection.None,
                    (byte)';' => Next(State.ExtensionNameStart),
                    _ => Invalid(b, RequestRejection.InvalidChunkSize),
                };
            case State.ExtensionNameStart:
                if (IsOws(b))
                {
                    return RequestRejection.None;
                }
                return IsTokenChar(b) ? Next(State.ExtensionName) : Invalid(b, RequestRejection.InvalidChunkExtension);
            case State.ExtensionName:
                if (IsTokenChar(b))
                {
                    return RequestRejection.None;
                }
                return b switch
                {
                    (byte)'=' => Next(State.ExtensionValueStart),
                    (byte)';' => Next(State.ExtensionNameStart),
                    SP or HTAB => Next(State.AfterExtensionName),
                    CR => Next(State.SizeLineLf),
                    _ => Invalid(b, RequestRejection.InvalidChunkExtension),
                };
            case State.AfterExtensionName:
                return b switch
                {
                    SP or HTAB => RequestRejection.None,
                    (byte)'=' => Next(State.ExtensionValueStart),
                    (byte)';' => Next(State.ExtensionNameStart),
                    _ => Invalid(b, RequestRejection.InvalidChunkExtension),
                };
            case State.ExtensionValueStart:
                if (IsOws(b))
                {
                    return RequestRejection.None;
                }
                if (b == (byte)'"')
                {
                    return Next(State.ExtensionQuoted);
                }
                return IsTokenChar(b) ? Next(State.ExtensionToken) : Invalid(b, RequestRejection.InvalidChunkExtension);
            case State.ExtensionToken:
                return IsTokenChar(b) ? RequestRejection.None : AfterValue(b);
            case State.ExtensionQuoted:
                // RFC 9110 §5.6.4: CR, LF, NUL and other CTLs are invalid even inside quotes (CVE-2026-33870).
                if (b == (byte)'"')
                {
                    return Next(State.AfterExtensionValue);
                }
                if (b == (byte)'\\')
                {
                    return Next(State.ExtensionQuotedPair);
                }
                return FramingFields.IsQdText(b) ? RequestRejection.None : Invalid(b, RequestRejection.InvalidChunkExtension);
            case State.ExtensionQuotedPair:
                return FramingFields.IsQuotedPairChar(b)
                    ? Next(State.ExtensionQuoted)
                    : Invalid(b, RequestRejection.InvalidChunkExtension);
            case State.AfterExtensionValue:
                return AfterValue(b);
            case State.AfterExtensionValueWhitespace:
                return b switch
                {
                    SP or HTAB => RequestRejection.None,
                    (byte)';' => Next(State.ExtensionNameStart),
                    _ => Invalid(b, RequestRejection.InvalidChunkExtension), // "5;a=b \r\n"
                };
            default:
                throw new InvalidOperationException("Unreachable decoder state.");
        }
    }

    private RequestRejection AfterValue(byte b) => b switch
    {
        (byte)';' => Next(State.ExtensionNameStart),
        SP or HTAB => Next(State.AfterExtensionValueWhitespace),
        CR => Next(State.SizeLineLf),
        _ => Invalid(b, RequestRejection.InvalidChunkExtension),
    };

    private RequestRejection EndSizeLine(long maxBodyBytes)
    {
        if (_size == 0)
        {
            _state = State.Trailer;
            return RequestRejection.None;
        }
        // CH-2, CH-8: compare against the remaining allowance before reading any of the chunk.
        if (_size > maxBodyBytes - _bodyBytes)
        {
            return RequestRejection.BodyTooLarge;
        }
        _bodyBytes += _size;
        _chunkRemaining = _size;
        _state = State.Data;
        return RequestRejection.None;
    }

    private RequestRejection Next(State state)
    {
        _state = state;
        return RequestRejection.None;
    }

    /// <summary>
    /// NUL and a stray LF get their own reasons (G-1, G-3); anything else, including a CR where the grammar has no
    /// place for the line to end, gets <paramref name="otherwise"/>. A CR not followed by LF is reported by SizeLineLf.
    /// </summary>
    private static RequestRejection Invalid(byte b, RequestRejection otherwise) => b switch
    {
        0 => RequestRejection.Nul,
        LF => RequestRejection.BareLf,
        _ => otherwise,
    };

    /// <summary>
    /// CH-7: one trailer line, handled whole, so a partial line stays unread until its LF arrives (bounded by the
    /// trailer limit). Returns Data to continue, Complete at the final CRLF, NeedMoreData or Rejected.
    /// </summary>
    private ChunkStatus ReadTrailerLine(ref SequenceReader<byte> input, HeaderCollection trailers, out RequestRejection rejection)
    {
        rejection = RequestRejection.None;
        SequenceReader<byte> probe = input;
        if (!probe.TryReadTo(out ReadOnlySequence<byte> line, LF, advancePastDelimiter: true))
        {
            if (_trailerBytes + input.Remaining + 1 > MaxTrailerBytes)
            {
                rejection = RequestRejection.TrailersTooLarge;
                return ChunkStatus.Rejected;
            }
            return ChunkStatus.NeedMoreData;
        }
        _trailerBytes += (int)line.Length + 1;
        if (_trailerBytes > MaxTrailerBytes)
        {
            rejection = RequestRejection.TrailersTooLarge;
            return ChunkStatus.Rejected;
        }
        if (line.IsEmpty || !EndsWithCr(line))
        {
            rejection = RequestRejection.BareLf; // G-1 in trailers
            return ChunkStatus.Rejected;
        }
        input = probe;
        if (line.Length == 1)
        {
            _state = State.Done;
            return ChunkStatus.Complete;
        }
        int length = (int)line.Length - 1;
        ReadOnlySequence<byte> content = line.Slice(0, length);
        if (content.IsSingleSegment)
        {
            rejection = AddTrailer(content.FirstSpan, trailers);
        }
        else if (length <= 512)
        {
            Span<byte> copy = stackalloc byte[length];
            content.CopyTo(copy);
            rejection = AddTrailer(copy, trailers);
        }
        else
        {
            byte[] rented = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                content.CopyTo(rented);
                rejection = AddTrailer(rented.AsSpan(0, length), trailers);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
        return rejection == RequestRejection.None ? ChunkStatus.Data : ChunkStatus.Rejected;
    }

    private RequestRejection AddTrailer(ReadOnlySpan<byte> line, HeaderCollection trailers)
    {
        RequestRejection field = FieldLine.Parse(line, !_trailerSeen, out ReadOnlySpan<byte> nameBytes, out ReadOnlySpan<byte> value);
        _trailerSeen = true;
        if (field != RequestRejection.None)
        {
            return field;
        }
        string name = HeaderNames.Get(nameBytes);
        if (TrailerFields.IsForbidden(name) || FieldLine.IsFramingLookalike(nameBytes))
        {
            return RequestRejection.TrailerFieldNotAllowed;
        }
        trailers.Add(name, Latin1StringCache.Current.Get(value));
        return RequestRejection.None;
    }

    private static bool EndsWithCr(ReadOnlySequence<byte> line)
    {
        var reader = new SequenceReader<byte>(line);
        reader.Advance(line.Length - 1);
        return reader.TryPeek(out byte last) && last == CR;
    }
}
