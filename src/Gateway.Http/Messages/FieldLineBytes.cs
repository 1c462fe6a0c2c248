using System.Buffers.Binary;
using Gateway.Http.Parsing;

namespace Gateway.Http.Messages;

/// <summary>
/// Field lines in the form the gateway writes them: the name in lower case, ": ", the value without its surrounding
/// whitespace, CRLF. These are the very bytes <see cref="HeaderCollection"/> strings of the same fields are written as,
/// so a response head nobody reads goes from the parser to the writer without a string per field. The buffer grows to
/// <see cref="MaxBytes"/> and stays with its head; lines that would need more are refused, and kept as strings.
/// </summary>
internal sealed class FieldLineBytes
{
    private const int InitialBytes = 512;
    private const int MaxBytes = 4096;

    private byte[] _bytes = new byte[InitialBytes];
    private int _length;

    public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, _length);

    public void Clear() => _length = 0;

    /// <summary>Appends a validated field (a token name, a value without CR, LF or NUL); false when it does not fit.</summary>
    public bool TryAppend(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        int end = _length + name.Length + value.Length + 4;
        if (end > _bytes.Length)
        {
            if (end > MaxBytes)
            {
                return false;
            }
            Array.Resize(ref _bytes, Math.Min(MaxBytes, Math.Max(end, _bytes.Length * 2)));
        }
        Span<byte> line = _bytes.AsSpan(_length, end - _length);
        CopyLower(name, line);
        line[name.Length] = (byte)':';
        line[name.Length + 1] = (byte)' ';
        value.CopyTo(line[(name.Length + 2)..]);
        line[^2] = (byte)'\r';
        line[^1] = (byte)'\n';
        _length = end;
        return true;
    }

    /// <summary>
    /// Copies a token (ASCII) in lower case: eight bytes at a time, the last eight overlapping, or one by one below eight.
    /// On names this short either costs less than the vectorized call.
    /// </summary>
    private static void CopyLower(ReadOnlySpan<byte> name, Span<byte> target)
    {
        if (name.Length < sizeof(ulong))
        {
            for (int i = 0; i < name.Length; i++)
            {
                byte c = name[i];
                target[i] = c - (uint)'A' <= 'Z' - 'A' ? (byte)(c | 0x20) : c;
            }
            return;
        }
        int last = name.Length - sizeof(ulong);
        for (int at = 0; at < last; at += sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(target[at..], LowerEight(BinaryPrimitives.ReadUInt64LittleEndian(name[at..])));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(target[last..], LowerEight(BinaryPrimitives.ReadUInt64LittleEndian(name[last..])));
    }

    /// <summary>Eight ASCII bytes with A-Z made a-z: a byte's high bit in b + 0x3F is set from 'A' on, in b + 0x25 from '[' on.</summary>
    private static ulong LowerEight(ulong bytes)
    {
        ulong upper = ((bytes + 0x3F3F3F3F3F3F3F3FUL) ^ (bytes + 0x2525252525252525UL)) & 0x8080808080808080UL;
        return bytes | (upper >> 2);
    }

    /// <summary>Adds every line to <paramref name="headers"/> as strings, as the parser would have.</summary>
    public void AddTo(HeaderCollection headers)
    {
        ReadOnlySpan<byte> rest = Written;
        while (!rest.IsEmpty)
        {
            // A name holds no colon and a value no CR, so the first of each ends them.
            int colon = rest.IndexOf((byte)':');
            int end = rest.IndexOf((byte)'\r');
            headers.Add(HeaderNames.Get(rest[..colon]), Latin1StringCache.Current.Get(rest[(colon + 2)..end]));
            rest = rest[(end + 2)..];
        }
    }
}
