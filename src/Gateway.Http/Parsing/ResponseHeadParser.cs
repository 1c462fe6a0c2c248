using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>
/// Strict parser of an upstream response head (RS-1 to RS-3, RS-9): same field rules as requests, 502 on any
/// violation. Stateless like <see cref="RequestHeadParser"/>: on Incomplete nothing is consumed.
/// </summary>
public static class ResponseHeadParser
{
    public static ParseStatus TryParse(
        ref SequenceReader<byte> reader, HttpLimits limits, bool requestWasHead, HttpResponseHead head,
        out ResponseRejection rejection)
        => TryParse(ref reader, limits, requestWasHead, forwarding: false, head, out rejection);

    /// <param name="forwarding">
    /// Whether the head goes on to a client: its fields are kept as the lines the gateway writes, and become strings only
    /// when read (<see cref="HttpResponseHead.HoldsFieldLines"/>).
    /// </param>
    public static ParseStatus TryParse(
        ref SequenceReader<byte> reader, HttpLimits limits, bool requestWasHead, bool forwarding, HttpResponseHead head,
        out ResponseRejection rejection)
    {
        ParseStatus scan = HeadScanner.Scan(
            reader,
            allowLeadingCrlf: false,
            limits.MaxRequestLineBytes,
            maxFieldLineBytes: limits.MaxHeaderBytes, // a response line is bounded by the section only (RS-9)
            limits.MaxHeaderBytes,
            limits.MaxHeaderCount,
            out _,
            out long headLength,
            out RequestRejection scanRejection);
        rejection = ResponseRejections.From(scanRejection);
        if (scan != ParseStatus.Complete)
        {
            return scan;
        }

        rejection = ContiguousHead.Parse(
            reader, 0, headLength, (requestWasHead, forwarding, head),
            static (span, state) => Parse(span, state.requestWasHead, state.forwarding, state.head));
        if (rejection != ResponseRejection.None)
        {
            return ParseStatus.Rejected;
        }
        reader.Advance(headLength);
        return ParseStatus.Complete;
    }

    private static ResponseRejection Parse(ReadOnlySpan<byte> bytes, bool requestWasHead, bool forwarding, HttpResponseHead head)
    {
        head.Reset();
        int lineEnd = bytes.IndexOf(LF);
        ResponseRejection result = ParseStatusLine(bytes[..(lineEnd - 1)], head);
        if (result != ResponseRejection.None)
        {
            return result;
        }
        bytes = bytes[(lineEnd + 1)..];

        // A head parsed for forwarding keeps its fields as the lines the gateway writes, without hop-by-hop ones, until
        // a Connection option names a field to drop or the lines outgrow their buffer: from there on, and for what was
        // kept so far, they are strings, and the exchange cleans them (HOP-2) as it does any head.
        FieldLineBytes? lines = forwarding ? head.BeginFieldLines() : null;
        var framing = new FramingFields();
        var connection = new ConnectionOptions();
        bool first = true;
        while (true)
        {
            lineEnd = bytes.IndexOf(LF);
            ReadOnlySpan<byte> line = bytes[..(lineEnd - 1)];
            bytes = bytes[(lineEnd + 1)..];
            if (line.IsEmpty)
            {
                break;
            }
            RequestRejection field = FieldLine.Parse(line, first, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value);
            first = false;
            if (field != RequestRejection.None)
            {
                return ResponseRejections.From(field);
            }
            if (Ascii.EqualsIgnoreCase(name, HeaderNames.ContentLength))
            {
                field = framing.AddContentLength(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, HeaderNames.TransferEncoding))
            {
                field = framing.AddTransferEncoding(value);
            }
            else if (FieldLine.IsFramingLookalike(name))
            {
                return ResponseRejection.FramingHeaderLookalike; // HF-7 via RS-2
            }
            else
            {
                // HOP-3 protects request fields from clients; an upstream naming them only strips its own reply.
                bool isConnection = Ascii.EqualsIgnoreCase(name, HeaderNames.Connection);
                if (isConnection)
                {
                    field = connection.Add(value);
                    if (connection.NamesField)
                    {
                        lines = null;
                    }
                }
                // As a line the field is kept, or dropped when it is hop-by-hop; a line that does not fit ends the lines.
                if (lines is null || !(isConnection || HopByHopFields.IsAlways(name) || lines.TryAppend(name, value)))
                {
                    lines = null;
                    head.Headers.Add(HeaderNames.Get(name), Latin1StringCache.Current.Get(value));
                }
            }
            if (field != RequestRejection.None)
            {
                return ResponseRejections.From(field);
            }
        }
        return DecideFraming(head, requestWasHead, framing, connection);
    }

    /// <summary>RS-3, in the order of RFC 9112 §6.3.</summary>
    private static ResponseRejection DecideFraming(
        HttpResponseHead head, bool requestWasHead, in FramingFields framing, in ConnectionOptions connection)
    {
        int status = head.StatusCode;
        // RS-3 item 4 (RFC MUST) applies to every response: an invalid or conflicting length poisons the connection.
        RequestRejection lengths = framing.CheckContentLengthCount();
        if (lengths != RequestRejection.None)
        {
            return ResponseRejections.From(lengths);
        }
        if (framing.HasTransferEncoding && head.MinorVersion == 0)
        {
            return ResponseRejection.TransferEncodingInHttp10; // RFC 9112 §6.1 [POLICY: 502]
        }
        head.KeepAlive = head.MinorVersion == 1 ? !connection.Close : connection.KeepAlive && !connection.Close;

        // Item 1: HEAD, 1xx, 204 and 304 end at the empty line whatever the framing fields say.
        if (requestWasHead || status < 200 || status == 204 || status == 304)
        {
            head.Framing = BodyFraming.None;
            // RS-6, RS-7: a length on a HEAD or 304 response is metadata the client may be told.
            bool metadata = framing.ContentLengthCount > 0 && (requestWasHead || status == 304);
            head.ContentLength = metadata ? framing.ContentLength : 0;
            return ResponseRejection.None;
        }
        if (framing.HasTransferEncoding)
        {
            if (framing.ContentLengthCount > 0)
            {
                return ResponseRejection.ContentLengthWithTransferEncoding; // item 2 [POLICY: 502]
            }
            if (framing.ChunkedCount > 1)
            {
                return ResponseRejection.DuplicateChunked;
            }
            if (framing.HasOtherCoding)
            {
                // Items 2 and 3 with a coding other than chunked: the gateway re-frames every body (RS-5) and
                // implements no content transformation, so it cannot deliver such a body faithfully.
                return ResponseRejection.UnsupportedTransferCoding;
            }
            head.Framing = BodyFraming.Chunked;
            return ResponseRejection.None;
        }
        if (framing.ContentLengthCount > 0)
        {
            head.Framing = BodyFraming.ContentLength; // item 5
            head.ContentLength = framing.ContentLength;
            return ResponseRejection.None;
        }
        head.Framing = BodyFraming.CloseDelimited; // item 6: never reusable (KA-4)
        head.KeepAlive = false;
        return ResponseRejection.None;
    }

    /// <summary>RS-1: <c>HTTP-version SP 3DIGIT SP [reason-phrase]</c>; a missing SP before an empty reason is tolerated.</summary>
    private static ResponseRejection ParseStatusLine(ReadOnlySpan<byte> line, HttpResponseHead head)
    {
        ResponseRejection result = ReadStatusLine(line, head);
        if (result != ResponseRejection.None)
        {
            // G-2, G-3: a CR or NUL anywhere in the line is reported as such, never as the lesser error it caused.
            int control = line.IndexOfAny(CR, (byte)0);
            if (control >= 0)
            {
                return line[control] == CR ? ResponseRejection.BareCr : ResponseRejection.Nul;
            }
        }
        return result;
    }

    private static ResponseRejection ReadStatusLine(ReadOnlySpan<byte> line, HttpResponseHead head)
    {
        if (line.Length < 12 || line[8] != SP)
        {
            return ResponseRejection.InvalidStatusLine;
        }
        ReadOnlySpan<byte> version = line[..8];
        if (!version.StartsWith("HTTP/"u8) || !IsDigit(version[5]) || version[6] != (byte)'.' || !IsDigit(version[7]))
        {
            return ResponseRejection.InvalidVersion;
        }
        if (version[5] != (byte)'1')
        {
            return ResponseRejection.VersionNotSupported;
        }
        head.MinorVersion = version[7] == (byte)'0' ? 0 : 1;
        ReadOnlySpan<byte> code = line.Slice(9, 3);
        if (!IsDigit(code[0]) || !IsDigit(code[1]) || !IsDigit(code[2]))
        {
            return ResponseRejection.InvalidStatusCode;
        }
        int status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
        if (status < 100 || status > 599)
        {
            return ResponseRejection.InvalidStatusCode;
        }
        head.StatusCode = status;
        if (line.Length == 12)
        {
            return ResponseRejection.None;
        }
        if (line[12] != SP)
        {
            return ResponseRejection.InvalidStatusCode; // a fourth digit or other text glued to the code
        }
        ReadOnlySpan<byte> reason = line[13..];
        if (reason.ContainsAny(InvalidValueChars))
        {
            return ResponseRejection.InvalidReasonPhrase;
        }
        head.ReasonPhrase = reason.SequenceEqual("OK"u8) ? "OK" : Latin1StringCache.Current.Get(reason);
        return ResponseRejection.None;
    }
}
