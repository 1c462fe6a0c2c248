using System.Buffers;

namespace Gateway.Plugins.Abi;

/// <summary>
/// Body bytes a plugin can see and edit (buffer types 0 and 1). Backed by a pooled array that is returned on
/// <see cref="Release"/>; it only grows while a plugin holds the body (docs/proxy-wasm.md, 'Stream control', body result 1).
/// </summary>
internal sealed class BodyBuffer
{
    private byte[] _bytes = [];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(0, _length);

    public void Append(ReadOnlySpan<byte> data)
    {
        EnsureCapacity(_length + data.Length);
        data.CopyTo(_bytes.AsSpan(_length));
        _length += data.Length;
    }

    public void Append(in ReadOnlySequence<byte> data)
    {
        EnsureCapacity(_length + checked((int)data.Length));
        data.CopyTo(_bytes.AsSpan(_length));
        _length += (int)data.Length;
    }

    /// <summary>
    /// Replaces <paramref name="size"/> bytes at <paramref name="start"/> with <paramref name="data"/> (docs/proxy-wasm.md, 'Buffers',
    /// the general splice): <c>start ≥ length</c> appends, <c>start = 0, size ≥ length</c> replaces everything.
    /// </summary>
    public void Splice(long start, long size, ReadOnlySpan<byte> data)
    {
        int from = (int)Math.Min(start, _length);
        int removed = (int)Math.Min(size, _length - from);
        int tail = _length - from - removed;
        int newLength = checked(_length - removed + data.Length);
        EnsureCapacity(newLength);
        _bytes.AsSpan(from + removed, tail).CopyTo(_bytes.AsSpan(from + data.Length));
        data.CopyTo(_bytes.AsSpan(from));
        _length = newLength;
    }

    /// <summary>The length <see cref="Splice"/> with the same arguments would leave.</summary>
    public long LengthAfterSplice(long start, long size, int dataLength)
    {
        long from = Math.Min(start, _length);
        long removed = Math.Min(size, _length - from);
        return _length - removed + dataLength;
    }

    /// <summary>Moves the contents to <paramref name="other"/> (which is cleared first) and leaves this buffer empty.</summary>
    public void MoveTo(BodyBuffer other)
    {
        (other._bytes, _bytes) = (_bytes, other._bytes);
        other._length = _length;
        _length = 0;
    }

    public void Clear() => _length = 0;

    public void Release()
    {
        if (_bytes.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = [];
        }
        _length = 0;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _bytes.Length)
        {
            return;
        }
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(256, _bytes.Length * 2)));
        _bytes.AsSpan(0, _length).CopyTo(larger);
        if (_bytes.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
        }
        _bytes = larger;
    }
}
