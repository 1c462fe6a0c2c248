using System.Buffers.Text;

namespace Gateway.Backends;

/// <summary>
/// Finds where each RESP2 reply ends in a stream of replies, so replies reach plugins byte for byte as Redis sent
/// them (ABI §10.1) without being decoded. Arrays are prefix-counted: a reply is complete once every element
/// announced so far has been read, so one counter does, with no recursion however deeply a script's reply nests.
/// A reply that arrives in pieces is scanned once: the scan resumes where the previous piece ended.
/// </summary>
internal struct RespReplyFramer
{
    private int _scanned;
    private long _elements;

    /// <summary>
    /// The length of the reply at the start of <paramref name="buffer"/> (the same start as the previous call until a
    /// reply is returned); 0 while it is incomplete, -1 when the bytes are not RESP2.
    /// </summary>
    public int Next(ReadOnlySpan<byte> buffer)
    {
        if (_scanned == 0)
        {
            _elements = 1;
        }
        while (_elements > 0)
        {
            int element = Element(buffer[_scanned..], out long nested);
            if (element <= 0)
            {
                return element;
            }
            _scanned += element;
            _elements += nested - 1;
        }
        int length = _scanned;
        _scanned = 0;
        return length;
    }

    /// <summary>One element's own bytes (an array's header only; its elements are counted into <paramref name="nested"/>).</summary>
    private static int Element(ReadOnlySpan<byte> buffer, out long nested)
    {
        nested = 0;
        int lineEnd = buffer.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            return 0;
        }
        if (lineEnd == 0)
        {
            return -1;
        }
        ReadOnlySpan<byte> line = buffer[1..lineEnd];
        int headerLength = lineEnd + 2;
        switch (buffer[0])
        {
            case (byte)'+' or (byte)'-' or (byte)':':
                return headerLength;
            case (byte)'$':
                if (!TryLength(line, out long length))
                {
                    return -1;
                }
                if (length < 0)
                {
                    return headerLength;
                }
                if (buffer.Length - headerLength < length + 2)
                {
                    return 0;
                }
                int end = headerLength + (int)length;
                return buffer[end..].StartsWith("\r\n"u8) ? end + 2 : -1;
            case (byte)'*':
                if (!TryLength(line, out long count))
                {
                    return -1;
                }
                nested = Math.Max(0, count);
                return headerLength;
            default:
                return -1;
        }
    }

    /// <summary>A length or count: a decimal number, -1 meaning null.</summary>
    private static bool TryLength(ReadOnlySpan<byte> line, out long value) =>
        Utf8Parser.TryParse(line, out value, out int used) && used == line.Length && value >= -1;
}
