using System.Text;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>
/// Accumulates every Content-Length and Transfer-Encoding line of one head, in order, and decides the body framing
/// once the head is complete (RFC 9112 §6.3; rules CL-* and TE-*). Shared by requests and responses.
/// </summary>
internal struct FramingFields
{
    // CL-2: digits beyond this cannot fit a 64-bit length anyway; leading zeros count too.
    private const int MaxContentLengthDigits = 19;

    public int ContentLengthCount;
    public long ContentLength;
    public bool ContentLengthsDiffer;

    public bool HasTransferEncoding;
    public int ChunkedCount;
    public bool LastIsChunked;
    public bool HasOtherCoding;

    /// <summary>CL-1, CL-3, CL-4: each comma element is one or more ASCII digits; values are compared, never summed.</summary>
    public RequestRejection AddContentLength(ReadOnlySpan<byte> value)
    {
        bool more = true;
        while (more)
        {
            ReadOnlySpan<byte> element = NextListElement(ref value, out more);
            if (!TryParseDecimal(element, out long length))
            {
                return RequestRejection.InvalidContentLength;
            }
            if (ContentLengthCount++ == 0)
            {
                ContentLength = length;
            }
            else if (length != ContentLength)
            {
                ContentLengthsDiffer = true;
            }
        }
        return RequestRejection.None;
    }

    /// <summary>
    /// TE-1, TE-7: <c>#transfer-coding</c>, where transfer-coding is <c>token *( OWS ";" OWS name BWS "=" BWS value )</c>
    /// (RFC 9112 §7, RFC 9110 §5.6.1). Empty elements are rejected; chunked takes no parameters.
    /// </summary>
    public RequestRejection AddTransferEncoding(ReadOnlySpan<byte> value)
    {
        HasTransferEncoding = true;
        bool more = true;
        while (more)
        {
            ReadOnlySpan<byte> element = NextListElement(ref value, out more);
            int semicolon = element.IndexOf((byte)';');
            ReadOnlySpan<byte> coding = semicolon < 0 ? element : TrimOws(element[..semicolon]);
            if (!IsToken(coding))
            {
                return RequestRejection.InvalidTransferEncoding;
            }
            bool chunked = Ascii.EqualsIgnoreCase(coding, "chunked"u8); // TE-9
            if (semicolon >= 0 && (chunked || !AreValidParameters(element[semicolon..])))
            {
                return RequestRejection.InvalidTransferEncoding;
            }
            if (chunked)
            {
                ChunkedCount++;
            }
            else
            {
                HasOtherCoding = true;
            }
            LastIsChunked = chunked;
        }
        return RequestRejection.None;
    }

    /// <summary>The request body decision table of the rules doc (TE-3..TE-6, CL-4).</summary>
    public readonly RequestRejection DecideRequest(int minorVersion, out bool chunked)
    {
        chunked = false;
        if (HasTransferEncoding)
        {
            if (minorVersion == 0)
            {
                return RequestRejection.TransferEncodingInHttp10; // TE-6
            }
            if (ContentLengthCount > 0)
            {
                return RequestRejection.ContentLengthWithTransferEncoding; // TE-5
            }
            if (ChunkedCount > 1)
            {
                return RequestRejection.DuplicateChunked; // TE-2
            }
            if (!LastIsChunked)
            {
                return RequestRejection.ChunkedNotFinal; // TE-3
            }
            if (HasOtherCoding)
            {
                return RequestRejection.UnsupportedTransferCoding; // TE-4: only the exact list "chunked"
            }
            chunked = true;
            return RequestRejection.None;
        }
        return CheckContentLengthCount();
    }

    public readonly RequestRejection CheckContentLengthCount()
    {
        if (ContentLengthCount > 1)
        {
            return ContentLengthsDiffer ? RequestRejection.ConflictingContentLength : RequestRejection.DuplicateContentLength;
        }
        return RequestRejection.None;
    }

    /// <summary>NET-4: a hand-written loop over '0'-'9' with a digit cap and checked arithmetic.</summary>
    public static bool TryParseDecimal(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > MaxContentLengthDigits)
        {
            return false;
        }
        foreach (byte b in digits)
        {
            if (!IsDigit(b))
            {
                return false;
            }
            int digit = b - '0';
            if (value > (long.MaxValue - digit) / 10)
            {
                return false; // CL-3
            }
            value = value * 10 + digit;
        }
        return true;
    }

    /// <summary><c>*( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) )</c>, starting at the first ";".</summary>
    private static bool AreValidParameters(ReadOnlySpan<byte> parameters)
    {
        int i = 0;
        while (i < parameters.Length)
        {
            i = SkipOws(parameters, i);
            if (i == parameters.Length || parameters[i] != (byte)';')
            {
                return false;
            }
            i = SkipOws(parameters, i + 1);
            int nameStart = i;
            while (i < parameters.Length && IsTokenChar(parameters[i]))
            {
                i++;
            }
            if (i == nameStart)
            {
                return false;
            }
            i = SkipOws(parameters, i);
            if (i == parameters.Length || parameters[i] != (byte)'=')
            {
                return false;
            }
            i = SkipOws(parameters, i + 1);
            if (i < parameters.Length && parameters[i] == (byte)'"')
            {
                i = SkipQuotedString(parameters, i);
                if (i < 0)
                {
                    return false;
                }
            }
            else
            {
                int valueStart = i;
                while (i < parameters.Length && IsTokenChar(parameters[i]))
                {
                    i++;
                }
                if (i == valueStart)
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static int SkipOws(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && IsOws(s[i]))
        {
            i++;
        }
        return i;
    }

    /// <summary>RFC 9110 §5.6.4 quoted-string starting at the opening quote; index after the closing quote, or -1.</summary>
    public static int SkipQuotedString(ReadOnlySpan<byte> s, int i)
    {
        for (i++; i < s.Length; i++)
        {
            byte b = s[i];
            if (b == (byte)'"')
            {
                return i + 1;
            }
            if (b == (byte)'\\')
            {
                if (++i == s.Length || !IsQuotedPairChar(s[i]))
                {
                    return -1;
                }
            }
            else if (!IsQdText(b))
            {
                return -1;
            }
        }
        return -1;
    }

    /// <summary>qdtext: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text.</summary>
    public static bool IsQdText(byte b) =>
        b == HTAB || b == SP || b == 0x21 || (b >= 0x23 && b <= 0x5B) || (b >= 0x5D && b != 0x7F);

    /// <summary>After a backslash: HTAB, SP, VCHAR, obs-text.</summary>
    public static bool IsQuotedPairChar(byte b) => b == HTAB || b >= SP && b != 0x7F;
}
