using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gateway.Backends.Sql;

/// <summary>
/// Builds the result set of docs/proxy-wasm.md, 'The SQL extension' in a pooled buffer, refusing to grow past the statement's
/// byte limit (RESULT_TOO_LARGE, docs/proxy-wasm.md, 'The SQL extension'). The pooled buffer is returned on every path by Dispose.
/// </summary>
internal sealed class SqlResultWriter : IDisposable
{
    private const int FlagsOffset = 4;
    private const int RowsAffectedOffset = 8;
    private const int RowCountOffset = 20;
    private const uint TruncatedFlag = 1;

    private readonly int _limit;
    private byte[] _buffer;
    private int _length;

    public SqlResultWriter(int limit)
    {
        _limit = limit;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit, 4096));
    }

    /// <summary>Set once a write did not fit in the byte limit; everything after it is ignored.</summary>
    public bool Overflowed { get; private set; }

    public void WriteHeader(int columnCount)
    {
        WriteUInt32(1);          // version
        WriteUInt32(0);          // flags, patched by Finish
        WriteUInt64(0);          // rows_affected, patched by Finish
        WriteUInt32((uint)columnCount);
        WriteUInt32(0);          // row_count, patched by Finish
    }

    public void WriteColumn(string name, SqlValueTag tag)
    {
        WriteLengthPrefixedUtf8(name);
        WriteByte((byte)tag);
    }

    public void WriteNull() => WriteByte((byte)SqlValueTag.Null);

    public void WriteBool(bool value)
    {
        WriteByte((byte)SqlValueTag.Bool);
        WriteByte(value ? (byte)1 : (byte)0);
    }

    public void WriteInt64(long value)
    {
        WriteByte((byte)SqlValueTag.Int64);
        WriteUInt64((ulong)value);
    }

    public void WriteFloat64(double value)
    {
        WriteByte((byte)SqlValueTag.Float64);
        WriteUInt64(BitConverter.DoubleToUInt64Bits(value));
    }

    public void WriteText(string value)
    {
        WriteByte((byte)SqlValueTag.Text);
        WriteLengthPrefixedUtf8(value);
    }

    public void WriteText(ReadOnlySpan<byte> utf8)
    {
        WriteByte((byte)SqlValueTag.Text);
        WriteLengthPrefixed(utf8);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteByte((byte)SqlValueTag.Bytes);
        WriteLengthPrefixed(value);
    }

    public byte[] Finish(bool truncated, long rowsAffected, int rowCount)
    {
        var span = _buffer.AsSpan(0, _length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[FlagsOffset..], truncated ? TruncatedFlag : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(span[RowsAffectedOffset..], (ulong)Math.Max(0, rowsAffected));
        BinaryPrimitives.WriteUInt32LittleEndian(span[RowCountOffset..], (uint)rowCount);
        return span.ToArray();
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void WriteLengthPrefixedUtf8(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        var span = Reserve(4 + byteCount);
        if (!span.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)byteCount);
            Encoding.UTF8.GetBytes(value, span[4..]);
        }
    }

    private void WriteLengthPrefixed(ReadOnlySpan<byte> value)
    {
        var span = Reserve(4 + value.Length);
        if (!span.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value.Length);
            value.CopyTo(span[4..]);
        }
    }

    private void WriteByte(byte value)
    {
        var span = Reserve(1);
        if (!span.IsEmpty)
        {
            span[0] = value;
        }
    }

    private void WriteUInt32(uint value)
    {
        var span = Reserve(4);
        if (!span.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span, value);
        }
    }

    private void WriteUInt64(ulong value)
    {
        var span = Reserve(8);
        if (!span.IsEmpty)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span, value);
        }
    }

    /// <summary>Empty when the limit would be exceeded (and <see cref="Overflowed"/> is set).</summary>
    private Span<byte> Reserve(int count)
    {
        if (Overflowed || (long)_length + count > _limit)
        {
            Overflowed = true;
            return default;
        }

        if (_length + count > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(_limit, Math.Max((long)_buffer.Length * 2, _length + count)));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
