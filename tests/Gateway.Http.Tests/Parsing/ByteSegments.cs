using System.Buffers;
using System.Text;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Builds the sequences the parsers must handle: one contiguous segment, or one segment per byte (NET-5).</summary>
internal static class ByteSegments
{
    public static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);

    public static string Latin1String(IEnumerable<byte> bytes) => Encoding.Latin1.GetString([.. bytes]);

    public static ReadOnlySequence<byte> Whole(byte[] bytes) => new(bytes);

    public static ReadOnlySequence<byte> OnePerByte(byte[] bytes) => Split(bytes, Enumerable.Range(1, Math.Max(0, bytes.Length - 1)));

    /// <summary>A sequence whose segments break at the given offsets (ascending, inside the array).</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, IEnumerable<int> cuts)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        var first = new Segment(bytes, 0, 0);
        Segment last = first;
        int start = 0;
        foreach (int cut in cuts)
        {
            if (cut <= start || cut >= bytes.Length)
            {
                continue;
            }
            last.Limit(cut - start);
            last = last.Append(bytes, cut);
            start = cut;
        }
        last.Limit(bytes.Length - start);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        private readonly byte[] _bytes;
        private readonly int _offset;

        public Segment(byte[] bytes, int offset, long runningIndex)
        {
            _bytes = bytes;
            _offset = offset;
            RunningIndex = runningIndex;
            Memory = bytes.AsMemory(offset);
        }

        public void Limit(int length) => Memory = _bytes.AsMemory(_offset, length);

        public Segment Append(byte[] bytes, int offset)
        {
            var next = new Segment(bytes, offset, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
