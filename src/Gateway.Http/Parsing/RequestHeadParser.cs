using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>
/// Strict HTTP/1.1 request head parser (RFC 9112 §2-§7 with the POLICY choices of docs/http1-rules.md).
/// Stateless: each call scans from the reader's position, so on <see cref="ParseStatus.Incomplete"/> the caller
/// keeps the bytes (consumed = start, examined = end) and calls again when more arrive.
/// </summary>
public static class RequestHeadParser
{
    /// <summary>Longest request field line, CRLF excluded (docs/http1-rules.md: 8 KiB → 431).</summary>
    public const int MaxFieldLineBytes = 8192;

    /// <summary>Longest request field name (docs/http1-rules.md: 256 B → 431; CVE-2021-40346 came from longer names).</summary>
    public const int MaxFieldNameBytes = 256;

    public static ParseStatus TryParse(
        ref SequenceReader<byte> reader, HttpLimits limits, HttpRequestHead head, out RequestRejection rejection)
    {
        ParseStatus scan = HeadScanner.Scan(
            reader,
            allowLeadingCrlf: true,
            limits.MaxRequestLineBytes,
            MaxFieldLineBytes,
            limits.MaxHeaderBytes,
            limits.MaxHeaderCount,
            out int leading,
            out long headLength,
            out rejection);
        if (scan != ParseStatus.Complete)
        {
            return scan;
        }

        rejection = ContiguousHead.Parse(
            reader, leading, headLength, (limits, head),
            static (span, state) => Parse(span, state.limits, state.head));
        if (rejection != RequestRejection.None)
        {
            return ParseStatus.Rejected;
        }
        reader.Advance(leading + headLength);
        return ParseStatus.Complete;
    }

    /// <summary>Parses a complete head whose every line ends in CRLF (checked by <see cref="HeadScanner"/>).</summary>
    private static RequestRejection Parse(ReadOnlySpan<byte> bytes, HttpLimits limits, HttpRequestHead head)
    {
        head.Reset();
        int lineEnd = bytes.IndexOf(LF);
        RequestRejection result = ParseRequestLine(bytes[..(lineEnd - 1)], head, out string? targetAuthority);
        if (result != RequestRejection.None)
        {
            return result;
        }
        bytes = bytes[(lineEnd + 1)..];

        var framing = new FramingFields();
        var connection = new ConnectionOptions();
        string? host = null;
        bool hostSeen = false;
        bool expectContinue = false;
        bool hasUpgrade = false;
        bool hasAuthorization = false;
        bool hasContentType = false;
        bool hopByHop = false;
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
            result = FieldLine.Parse(line, first, out ReadOnlySpan<byte> nameBytes, out ReadOnlySpan<byte> value);
            first = false;
            if (result != RequestRejection.None)
            {
                return result;
            }
            if (nameBytes.Length > MaxFieldNameBytes)
            {
                return RequestRejection.FieldNameTooLong;
            }
            string name = HeaderNames.Get(nameBytes);
            switch (name)
            {
                case HeaderNames.Host:
                    // H-2: exactly one Host; H-3: a valid authority (a comma list is invalid there).
                    if (hostSeen)
                    {
                        return RequestRejection.DuplicateHost;
                    }
                    hostSeen = true;
                    host = head.PreviousHost is { } previous && Ascii.Equals(value, previous) ? previous : Authority.Normalize(value);
                    if (host is null)
                    {
                        return RequestRejection.InvalidHost;
                    }
                    head.PreviousHost = host;
                    continue;
                case HeaderNames.ContentLength:
                    result = framing.AddContentLength(value);
                    break;
                case HeaderNames.TransferEncoding:
                    result = framing.AddTransferEncoding(value);
                    break;
                case HeaderNames.Expect:
                    // EX-1: the only expectation is 100-continue; EX-2: ignored entirely in HTTP/1.0.
                    if (head.MinorVersion == 0)
                    {
                        continue;
                    }
                    if (!IsOnlyContinue(value))
                    {
                        return RequestRejection.UnsupportedExpectation;
                    }
                    expectContinue = true;
                    continue;
                case HeaderNames.Connection:
                    // HOP-2; the field stays for the forwarder, which removes it and the fields it names (HOP-1).
                    hopByHop = true;
                    result = connection.Add(value);
                    if (result != RequestRejection.None)
                    {
                        return result;
                    }
                    if (connection.NamesProtectedField)
                    {
                        return RequestRejection.ConnectionOptionNotAllowed; // HOP-3
                    }
                    head.Headers.Add(name, Latin1StringCache.Current.Get(value));
                    break;
                case HeaderNames.Authorization:
                case HeaderNames.ContentType:
                    // HF-8 [POLICY]: single-valued and security-relevant; a second copy is ambiguous.
                    ref bool seen = ref ReferenceEquals(name, HeaderNames.Authorization) ? ref hasAuthorization : ref hasContentType;
                    if (seen)
                    {
                        return RequestRejection.DuplicateHeader;
                    }
                    seen = true;
                    head.Headers.Add(name, Latin1StringCache.Current.Get(value));
                    break;
                default:
                    if (FieldLine.IsFramingLookalike(nameBytes))
                    {
                        return RequestRejection.FramingHeaderLookalike; // HF-7
                    }
                    hasUpgrade |= ReferenceEquals(name, HeaderNames.Upgrade);
                    hopByHop |= HopByHopFields.IsAlways(name);
                    head.Headers.Add(name, Latin1StringCache.Current.Get(value));
                    break;
            }
            if (result != RequestRejection.None)
            {
                return result;
            }
        }

        result = DecideAuthority(head, host, hostSeen, targetAuthority);
        if (result != RequestRejection.None)
        {
            return result;
        }

        result = framing.DecideRequest(head.MinorVersion, out bool chunked);
        if (result != RequestRejection.None)
        {
            return result;
        }
        bool hasBody = chunked || framing.ContentLength > 0;
        if (hasBody && HttpMethods.ForbidsBody(head.Method))
        {
            return RequestRejection.BodyNotAllowed; // TRACE only
        }
        if (hasBody && hasUpgrade && connection.Upgrade)
        {
            return RequestRejection.UpgradeWithBody; // UP-2
        }
        if (framing.ContentLength > limits.MaxBodyBytes)
        {
            return RequestRejection.BodyTooLarge; // CL-3: fits 64 bits but over the limit → 413 before reading
        }
        head.Framing = chunked ? BodyFraming.Chunked
            : framing.ContentLengthCount > 0 && (hasBody || !HttpMethods.UsuallyBodyless(head.Method)) ? BodyFraming.ContentLength
            : BodyFraming.None; // TE-8: no framing fields means no body; "Content-Length: 0" on GET/HEAD/TRACE neither
        head.ContentLength = head.Framing == BodyFraming.ContentLength ? framing.ContentLength : 0;
        // KA-3: close on "Connection: close" and after every HTTP/1.0 request [POLICY: no 1.0 keep-alive].
        head.KeepAlive = head.MinorVersion == 1 && !connection.Close;
        // EX-2: a request without a body needs no 100 response.
        head.ExpectContinue = expectContinue && hasBody;
        head.MayHoldHopByHopFields = hopByHop;
        return RequestRejection.None;
    }

    /// <summary><c>method SP request-target SP HTTP-version</c> with single SPs only (RL-1).</summary>
    private static RequestRejection ParseRequestLine(ReadOnlySpan<byte> line, HttpRequestHead head, out string? authority)
    {
        authority = null;
        int control = line.IndexOfAny(CR, (byte)0);
        if (control >= 0)
        {
            return line[control] == CR ? RequestRejection.BareCr : RequestRejection.Nul; // G-2, G-3
        }
        int methodEnd = line.IndexOf(SP);
        if (methodEnd <= 0)
        {
            // Leading SP (G-4, RL-1), or no SP at all: an HTTP/0.9 style or garbage line.
            return methodEnd == 0 || IsToken(line) ? RequestRejection.InvalidRequestLine : RequestRejection.InvalidMethod;
        }
        ReadOnlySpan<byte> method = line[..methodEnd];
        if (!IsToken(method))
        {
            return RequestRejection.InvalidMethod; // RL-2 (also catches HTAB used as a separator)
        }
        ReadOnlySpan<byte> rest = line[(methodEnd + 1)..];
        int targetEnd = rest.IndexOf(SP);
        if (targetEnd < 0)
        {
            return RequestRejection.InvalidRequestLine; // RL-3: no version (HTTP/0.9 form)
        }
        if (targetEnd == 0)
        {
            return RequestRejection.InvalidTarget; // RL-1 double SP, RL-4 empty target
        }
        ReadOnlySpan<byte> target = rest[..targetEnd];
        ReadOnlySpan<byte> version = rest[(targetEnd + 1)..];

        // RL-3: exactly "HTTP/" DIGIT "." DIGIT; anything after it (a trailing SP, a second version) is invalid.
        if (version.Length != 8 || !version.StartsWith("HTTP/"u8) || !IsDigit(version[5]) || version[6] != (byte)'.'
            || !IsDigit(version[7]))
        {
            return RequestRejection.InvalidVersion;
        }
        if (version[5] != (byte)'1')
        {
            return RequestRejection.VersionNotSupported;
        }
        // HTTP/1.2 to 1.9 are processed as HTTP/1.1 (RFC 9110 §2.5).
        head.MinorVersion = version[7] == (byte)'0' ? 0 : 1;

        string? known = HttpMethods.Find(method);
        if (known is null)
        {
            return RequestRejection.MethodNotImplemented; // RL-2: valid token, case-sensitive; CONNECT included
        }
        head.Method = known;
        return RequestTarget.Parse(target, known, head, out authority);
    }

    /// <summary>H-1, H-4, H-5: one effective authority; absolute-form wins and a differing Host is refused.</summary>
    private static RequestRejection DecideAuthority(HttpRequestHead head, string? host, bool hostSeen, string? targetAuthority)
    {
        if (!hostSeen)
        {
            // H-1: required in HTTP/1.1 (RFC 9112 §3.2); in 1.0 only an absolute-form target can name the authority.
            if (head.MinorVersion == 1 || targetAuthority is null)
            {
                return RequestRejection.MissingHost;
            }
        }
        else if (targetAuthority is not null
            && !Authority.AreEquivalent(targetAuthority, host!, https: head.Scheme == "https"))
        {
            return RequestRejection.HostMismatch;
        }
        head.Authority = targetAuthority ?? host!;
        return RequestRejection.None;
    }

    /// <summary>EX-1: every element of the Expect list is "100-continue" (ASCII case-insensitive).</summary>
    private static bool IsOnlyContinue(ReadOnlySpan<byte> value)
    {
        bool more = true;
        while (more)
        {
            if (!Ascii.EqualsIgnoreCase(NextListElement(ref value, out more), "100-continue"u8))
            {
                return false;
            }
        }
        return true;
    }
}
