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

    public static TResult Parse<TState, TResult>(ReadOnlySequence<byte> bytes, TState state, HeadSpanParser<TState, TResult> parse)
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
