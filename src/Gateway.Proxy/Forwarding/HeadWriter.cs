using System.Buffers;
using System.Buffers.Text;
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

    public static void WriteRequest(IBufferWriter<byte> w, HttpRequestHead head, BodyFraming framing, long contentLength)
    {
        WriteLatin1(w, head.Method);
        w.Write(" "u8);
        WriteLatin1(w, head.Target);
        w.Write(" HTTP/1.1\r\nhost: "u8);
        WriteLatin1(w, head.Authority);
        w.Write(Crlf);
        WriteFields(w, head.Headers);
        WriteFraming(w, framing, contentLength);
        w.Write(Crlf);
    }

    /// <summary>
    /// Writes a response head. With <paramref name="framing"/> None, a <paramref name="contentLength"/> of 0 or more is
    /// still written as a Content-Length field (metadata, no body follows); a negative one writes none.
    /// </summary>
    public static void WriteResponse(IBufferWriter<byte> w, HttpResponseHead head, BodyFraming framing, long contentLength, bool close)
    {
        w.Write("HTTP/1.1 "u8);
        WriteNumber(w, head.StatusCode);
        w.Write(" "u8);
        WriteLatin1(w, head.ReasonPhrase.Length > 0 ? head.ReasonPhrase : ReasonPhrases.For(head.StatusCode));
        w.Write(Crlf);
        WriteFields(w, head.Headers);
        WriteFraming(w, framing, contentLength);
        if (framing == BodyFraming.None && contentLength >= 0)
        {
            // A response without a body that still states a length: metadata of HEAD and 304, or 0 (see BodilessLength).
            w.Write("content-length: "u8);
            WriteNumber(w, contentLength);
            w.Write(Crlf);
        }
        if (close)
        {
            w.Write("connection: close\r\n"u8);
        }
        w.Write(Crlf);
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
        for (int i = 0; i < headers.Count; i++)
        {
            (string name, string value) = headers[i];
            // One span per field line: Latin-1 is one byte per character, so its length is known before writing.
            Span<byte> line = w.GetSpan(name.Length + value.Length + 4);
            int n = Encoding.Latin1.GetBytes(name, line);
            line[n++] = (byte)':';
            line[n++] = (byte)' ';
            n += Encoding.Latin1.GetBytes(value, line[n..]);
            line[n++] = (byte)'\r';
            line[n++] = (byte)'\n';
            w.Advance(n);
        }
    }

    private static void WriteFraming(IBufferWriter<byte> w, BodyFraming framing, long contentLength)
    {
        if (framing == BodyFraming.ContentLength)
        {
            w.Write("content-length: "u8);
            WriteNumber(w, contentLength);
            w.Write(Crlf);
        }
        else if (framing == BodyFraming.Chunked)
        {
            w.Write("transfer-encoding: chunked\r\n"u8);
        }
    }
}
