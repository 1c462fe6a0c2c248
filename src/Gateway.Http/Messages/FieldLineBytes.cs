using System.Runtime.CompilerServices;
using System.Text;
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

    /// <summary>How many lines are written.</summary>
    public int Count { get; private set; }

    public void Clear()
    {
        _length = 0;
        Count = 0;
    }

    /// <summary>Appends a validated field (a token name, a value without CR, LF or NUL); false when it does not fit.</summary>
    public bool TryAppend(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Span<byte> line = Reserve(name.Length, value.Length);
        if (line.IsEmpty)
        {
            return false;
        }
        CopyLower(name, line);
        value.CopyTo(line[(name.Length + 2)..]);
        return true;
    }

    /// <summary>
    /// Appends a field a plugin added, already checked as a header write: a lower-case token name and a Latin-1 value
    /// the gateway writes as it is. False when it does not fit.
    /// </summary>
    public bool TryAppend(string name, string value)
    {
        Span<byte> line = Reserve(name.Length, value.Length);
        if (line.IsEmpty)
        {
            return false;
        }
        Encoding.Latin1.GetBytes(name, line);
        Encoding.Latin1.GetBytes(value, line[(name.Length + 2)..]);
        return true;
    }

    /// <summary>A new line's span with its ": " and CRLF written, the name and value left to fill; empty when it does not fit.</summary>
    // Inlined: the parser appends every field of a forwarded head through here.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int nameLength, int valueLength)
    {
        int end = _length + nameLength + valueLength + 4;
        if (end > _bytes.Length)
        {
            if (end > MaxBytes)
            {
                return default;
            }
            Array.Resize(ref _bytes, Math.Min(MaxBytes, Math.Max(end, _bytes.Length * 2)));
        }
        Span<byte> line = _bytes.AsSpan(_length, end - _length);
        line[nameLength] = (byte)':';
        line[nameLength + 1] = (byte)' ';
        line[^2] = (byte)'\r';
        line[^1] = (byte)'\n';
        _length = end;
        Count++;
        return line;
    }

    /// <summary>Copies a token (ASCII) in lower case: only A-Z change.</summary>
    private static void CopyLower(ReadOnlySpan<byte> name, Span<byte> target)
    {
        for (int i = 0; i < name.Length; i++)
        {
            byte c = name[i];
            target[i] = c - (uint)'A' <= 'Z' - 'A' ? (byte)(c | 0x20) : c;
        }
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
