using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using Gateway.Http.Messages;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// Serializes the gateway's own message heads (P-1): a fresh start line, the cleaned fields, and framing
/// fields the gateway chose itself — never both Content-Length and Transfer-Encoding.
/// </summary>
public static class HeadWriter
{
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    // Room for the framing, the closing and every fixed part of a start line: the heads' variable parts are Latin-1
    // strings (one byte per character), so a head's size is known before it is written, and it goes into one span.
    private const int FixedBytes = 128;

    public static void WriteRequest(IBufferWriter<byte> w, HttpRequestHead head, BodyFraming framing, long contentLength) =>
        Write(w, head, head.Headers, framing, contentLength, [], null);

    /// <summary>
    /// A request head with <paramref name="addedLines"/> (whole field lines) after its fields: the lines of the fields
    /// the head still defers (<see cref="HttpRequestHead.Defer"/>), followed by those added after them, or none once
    /// they are fields.
    /// </summary>
    public static void WriteRequest(IBufferWriter<byte> w, HttpRequestHead head, BodyFraming framing, long contentLength, ReadOnlySpan<byte> addedLines) =>
        Write(w, head, head.FieldsBeforeDeferred, framing, contentLength, addedLines, head.FieldsAfterDeferred);

    private static void Write(
        IBufferWriter<byte> w, HttpRequestHead head, HeaderCollection fields, BodyFraming framing, long contentLength, ReadOnlySpan<byte> addedLines,
        HeaderCollection? afterLines)
    {
        var b = new HeadBytes(w.GetSpan(
            FixedBytes + head.Method.Length + head.Target.Length + head.Authority.Length + FieldsLength(fields) + addedLines.Length
            + (afterLines is null ? 0 : FieldsLength(afterLines))));
        b.Latin1(head.Method);
        b.Write((byte)' ');
        b.Latin1(head.Target);
        b.Write(" HTTP/1.1\r\nhost: "u8);
        b.Latin1(head.Authority);
        b.Write((byte)'\r', (byte)'\n');
        b.Fields(fields);
        b.Write(addedLines);
        if (afterLines is not null)
        {
            b.Fields(afterLines);
        }
        b.Framing(framing, contentLength);
        b.Write((byte)'\r', (byte)'\n');
        w.Advance(b.Length);
    }

    /// <summary>
    /// Writes a response head. With <paramref name="framing"/> None, a <paramref name="contentLength"/> of 0 or more is
    /// still written as a Content-Length field (metadata, no body follows); a negative one writes none.
    /// </summary>
    public static void WriteResponse(IBufferWriter<byte> w, HttpResponseHead head, BodyFraming framing, long contentLength, bool close)
    {
        string reason = head.ReasonPhrase.Length > 0 ? head.ReasonPhrase : ReasonPhrases.For(head.StatusCode);
        // A head that still holds the lines its parser kept is written from them, without reading them as strings.
        ReadOnlySpan<byte> lines = head.FieldLines;
        bool holdsLines = head.HoldsFieldLines;
        var b = new HeadBytes(w.GetSpan(FixedBytes + reason.Length + (holdsLines ? lines.Length : FieldsLength(head.Headers))));
        b.Write("HTTP/1.1 "u8);
        b.Status(head.StatusCode);
        b.Write((byte)' ');
        b.Latin1(reason);
        b.Write((byte)'\r', (byte)'\n');
        if (holdsLines)
        {
            b.Write(lines);
        }
        else
        {
            b.Fields(head.Headers);
        }
        b.Framing(framing, contentLength);
        if (framing == BodyFraming.None && contentLength >= 0)
        {
            // A response without a body that still states a length: metadata of HEAD and 304, or 0 (see BodilessLength).
            b.Write("content-length: "u8);
            b.Number(contentLength);
            b.Write((byte)'\r', (byte)'\n');
        }
        if (close)
        {
            b.Write("connection: close\r\n"u8);
        }
        b.Write((byte)'\r', (byte)'\n');
        w.Advance(b.Length);
    }

    /// <summary>Writes one chunk of the chunked coding around <paramref name="data"/> (RFC 9112 §7.1).</summary>
    public static void WriteChunk(IBufferWriter<byte> w, ReadOnlySequence<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }
        Span<byte> size = w.GetSpan(18);
        Utf8Formatter.TryFormat(data.Length, size, out int n, new StandardFormat('x'));
        size[n++] = (byte)'\r';
        size[n++] = (byte)'\n';
        w.Advance(n);
        foreach (ReadOnlyMemory<byte> segment in data)
        {
            w.Write(segment.Span);
        }
        w.Write(Crlf);
    }

    /// <summary>Writes the last chunk and, for responses, the trailer section.</summary>
    public static void WriteLastChunk(IBufferWriter<byte> w, HeaderCollection? trailers)
    {
        w.Write("0\r\n"u8);
        if (trailers is not null)
        {
            WriteFields(w, trailers);
        }
        w.Write(Crlf);
    }

    public static void WriteLatin1(IBufferWriter<byte> w, string value)
    {
        if (value.Length == 0)
        {
            return;
        }
        Span<byte> span = w.GetSpan(value.Length);
        int written = Encoding.Latin1.GetBytes(value, span);
        w.Advance(written);
    }

    public static void WriteNumber(IBufferWriter<byte> w, long value)
    {
        Span<byte> span = w.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int n);
        w.Advance(n);
    }

    private static void WriteFields(IBufferWriter<byte> w, HeaderCollection headers)
    {
        var b = new HeadBytes(w.GetSpan(FieldsLength(headers)));
        b.Fields(headers);
        w.Advance(b.Length);
    }

    /// <summary>Bytes the field lines take: "name: value" and CRLF each.</summary>
    private static int FieldsLength(HeaderCollection headers)
    {
        int length = 0;
        for (int i = 0; i < headers.Count; i++)
        {
            (string name, string value) = headers[i];
            length += name.Length + value.Length + 4;
        }
        return length;
    }

    /// <summary>A head written into one span the writer lent, advanced once at the end.</summary>
    private ref struct HeadBytes(Span<byte> span)
    {
        private readonly Span<byte> _span = span;

        public int Length { get; private set; }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_span[Length..]);
            Length += bytes.Length;
        }

        public void Latin1(string value)
        {
            Narrow(value, _span.Slice(Length, value.Length));
            Length += value.Length;
        }

        /// <summary>A string's Latin-1 bytes; a character above U+00FF becomes '?', as the Latin-1 encoder writes it.</summary>
        private static void Narrow(string value, Span<byte> target)
        {
            // Most parts of a head are short, and for them two overlapping vector loads or a plain loop cost less than
            // a call into the encoder; longer parts, and any character beyond Latin-1, go to the encoder.
            bool done = value.Length switch
            {
                < 8 => TryNarrowEach(value, target),
                <= 16 => TryNarrowTwoVectors(value, target),
                _ => false,
            };
            if (!done)
            {
                Encoding.Latin1.GetBytes(value, target);
            }
        }

        private static bool TryNarrowEach(string value, Span<byte> target)
        {
            for (int i = 0; i < target.Length; i++)
            {
                char c = value[i];
                if (c > 0xFF)
                {
                    return false;
                }
                target[i] = (byte)c;
            }
            return true;
        }

        /// <summary>8 to 16 characters as the first eight and the last eight, which overlap below 16.</summary>
        private static bool TryNarrowTwoVectors(string value, Span<byte> target)
        {
            ReadOnlySpan<ushort> chars = MemoryMarshal.Cast<char, ushort>(value.AsSpan());
            Vector128<ushort> first = Vector128.Create(chars);
            Vector128<ushort> last = Vector128.Create(chars[^8..]);
            if (((first | last) & Vector128.Create((ushort)0xFF00)) != Vector128<ushort>.Zero)
            {
                return false;
            }
            Vector128<ulong> bytes = Vector128.Narrow(first, last).AsUInt64();
            MemoryMarshal.Write(target, bytes.GetElement(0));
            MemoryMarshal.Write(target[^8..], bytes.GetElement(1));
            return true;
        }

        /// <summary>One octet, such as a space, without a copy call.</summary>
        public void Write(byte octet)
        {
            _span[Length] = octet;
            Length++;
        }

        /// <summary>Two octets, such as ": " or CRLF, without a copy call.</summary>
        public void Write(byte first, byte second)
        {
            _span[Length] = first;
            _span[Length + 1] = second;
            Length += 2;
        }

        /// <summary>A status code: three digits, written without the number formatter.</summary>
        public void Status(int code)
        {
            if (code is < 100 or > 999)
            {
                Number(code);
                return;
            }
            _span[Length] = (byte)('0' + (code / 100));
            _span[Length + 1] = (byte)('0' + (code / 10 % 10));
            _span[Length + 2] = (byte)('0' + (code % 10));
            Length += 3;
        }

        public void Number(long value)
        {
            Utf8Formatter.TryFormat(value, _span[Length..], out int n);
            Length += n;
        }

        public void Fields(HeaderCollection headers)
        {
            for (int i = 0; i < headers.Count; i++)
            {
                (string name, string value) = headers[i];
                Latin1(name);
                Write((byte)':', (byte)' ');
                Latin1(value);
                Write((byte)'\r', (byte)'\n');
            }
        }

        public void Framing(BodyFraming framing, long contentLength)
        {
            if (framing == BodyFraming.ContentLength)
            {
                Write("content-length: "u8);
                Number(contentLength);
                Write((byte)'\r', (byte)'\n');
            }
            else if (framing == BodyFraming.Chunked)
            {
                Write("transfer-encoding: chunked\r\n"u8);
            }
        }
    }
}
