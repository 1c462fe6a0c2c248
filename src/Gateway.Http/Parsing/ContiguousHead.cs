using System.Buffers;

namespace Gateway.Http.Parsing;

/// <summary>Parses a head section as one span.</summary>
internal delegate TResult HeadSpanParser<TState, TResult>(ReadOnlySpan<byte> head, TState state);

/// <summary>
/// Hands a complete head to a span parser: in place when it sits in one segment (the common case), otherwise
/// copied once to the stack (small heads) or to a pooled array, so parsers never deal with segment boundaries.
/// </summary>
internal static class ContiguousHead
{
    private const int StackCopyLimit = 2048;

    /// <summary>The <paramref name="length"/> bytes at <paramref name="offset"/> of what <paramref name="reader"/> has not read.</summary>
    public static TResult Parse<TState, TResult>(
        in SequenceReader<byte> reader, int offset, long length, TState state, HeadSpanParser<TState, TResult> parse)
    {
        // The span at hand needs no sequence made and sliced first.
        ReadOnlySpan<byte> unread = reader.UnreadSpan;
        return unread.Length - offset >= length
            ? parse(unread.Slice(offset, (int)length), state)
            : Parse(reader.UnreadSequence.Slice(offset, length), state, parse);
    }

    private static TResult Parse<TState, TResult>(ReadOnlySequence<byte> bytes, TState state, HeadSpanParser<TState, TResult> parse)
    {
        if (bytes.IsSingleSegment)
        {
            return parse(bytes.FirstSpan, state);
        }
        int length = (int)bytes.Length;
        if (length <= StackCopyLimit)
        {
            Span<byte> copy = stackalloc byte[length];
            bytes.CopyTo(copy);
            return parse(copy, state);
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Span<byte> copy = rented.AsSpan(0, length);
            bytes.CopyTo(copy);
            return parse(copy, state);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
