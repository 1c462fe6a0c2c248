namespace Gateway.Http.Parsing;

/// <summary>
/// Every reason the gateway refuses a request. Each value maps to one status in <see cref="RequestRejections"/>;
/// every rejection closes the connection afterwards (G-8). The rule of docs/http1-rules.md is named beside each.
/// </summary>
public enum RequestRejection
{
    /// <summary>No rejection.</summary>
    None = 0,

    // Line structure (G)
    BareLf,
    BareCr,
    Nul,
    /// <summary>More than one empty line, or whitespace, before the request line (G-4), or a line with no elements.</summary>
    InvalidRequestLine,
    /// <summary>The first field line starts with SP or HTAB (G-5).</summary>
    WhitespaceBeforeFirstHeader,

    // Request line (RL)
    InvalidMethod,
    MethodNotImplemented,
    InvalidTarget,
    /// <summary>A path whose meaning changes with each decoding: an encoded NUL, double encoding (RL-7).</summary>
    AmbiguousPath,
    /// <summary>An encoded slash or backslash in the path while config <c>paths.escapedSlashes</c> is <c>reject</c> (RL-7).</summary>
    EscapedSlash,
    TargetTooLong,
    InvalidVersion,
    VersionNotSupported,

    // Field lines (HF)
    MissingColon,
    InvalidHeaderName,
    WhitespaceBeforeColon,
    ObsFold,
    InvalidHeaderValue,
    /// <summary>A name that becomes Content-Length or Transfer-Encoding when "_" is read as "-" or dashes collapse (HF-7).</summary>
    FramingHeaderLookalike,
    /// <summary>A second Authorization or Content-Type (HF-8).</summary>
    DuplicateHeader,
    HeadersTooLarge,
    /// <summary>One field line longer than <see cref="RequestHeadParser.MaxFieldLineBytes"/> (HF-9).</summary>
    FieldLineTooLarge,
    /// <summary>A field name longer than <see cref="RequestHeadParser.MaxFieldNameBytes"/> (HF-9).</summary>
    FieldNameTooLong,
    TooManyHeaders,

    // Host (H)
    MissingHost,
    DuplicateHost,
    InvalidHost,
    HostMismatch,

    // Content-Length (CL)
    InvalidContentLength,
    ConflictingContentLength,
    /// <summary>Several Content-Length elements with the same value (CL-4 POLICY: rejected, not collapsed).</summary>
    DuplicateContentLength,
    /// <summary>A body on TRACE, the one method that may not carry one.</summary>
    BodyNotAllowed,

    // Transfer-Encoding (TE)
    InvalidTransferEncoding,
    ContentLengthWithTransferEncoding,
    TransferEncodingInHttp10,
    DuplicateChunked,
    /// <summary>The final coding is not chunked, so the length is unknowable (TE-3).</summary>
    ChunkedNotFinal,
    UnsupportedTransferCoding,

    // Chunked framing (CH)
    InvalidChunkSize,
    InvalidChunkExtension,
    ChunkExtensionTooLong,
    /// <summary>The two octets after chunk data are not CR LF (CH-6).</summary>
    InvalidChunkDataTerminator,
    TrailersTooLarge,
    /// <summary>A framing, routing or control field in the trailer section (CH-7).</summary>
    TrailerFieldNotAllowed,
    BodyTooLarge,

    // Connection, Expect, Upgrade (HOP, EX, UP)
    InvalidConnection,
    /// <summary>A Connection option naming Host, a framing field, Authorization or a gateway-owned field (HOP-3).</summary>
    ConnectionOptionNotAllowed,
    UnsupportedExpectation,
    /// <summary>An upgrade request that declares a body (UP-2).</summary>
    UpgradeWithBody,
}

/// <summary>The one place that maps rejection reasons to statuses (README, 'What a client sees when something goes wrong', docs/http1-rules.md).</summary>
public static class RequestRejections
{
    public static int StatusCode(RequestRejection rejection) => rejection switch
    {
        RequestRejection.None => throw new ArgumentOutOfRangeException(nameof(rejection), "Not a rejection."),
        RequestRejection.MethodNotImplemented => 501,
        RequestRejection.UnsupportedTransferCoding => 501,
        RequestRejection.TargetTooLong => 414,
        RequestRejection.VersionNotSupported => 505,
        RequestRejection.HeadersTooLarge => 431,
        RequestRejection.TooManyHeaders => 431,
        RequestRejection.FieldLineTooLarge => 431,
        RequestRejection.FieldNameTooLong => 431,
        RequestRejection.TrailersTooLarge => 431,
        RequestRejection.BodyTooLarge => 413,
        RequestRejection.UnsupportedExpectation => 417,
        _ => 400,
    };

    /// <summary>Short fixed text for the error body and the log; never echoes request bytes.</summary>
    public static string Reason(RequestRejection rejection) => rejection switch
    {
        RequestRejection.None => "no rejection",
        RequestRejection.BareLf => "line feed without carriage return",
        RequestRejection.BareCr => "carriage return without line feed",
        RequestRejection.Nul => "NUL octet in the message head",
        RequestRejection.InvalidRequestLine => "malformed request line",
        RequestRejection.WhitespaceBeforeFirstHeader => "whitespace before the first header field",
        RequestRejection.InvalidMethod => "invalid method",
        RequestRejection.MethodNotImplemented => "method not implemented",
        RequestRejection.InvalidTarget => "invalid request target",
        RequestRejection.AmbiguousPath => "path changes meaning under normalization",
        RequestRejection.EscapedSlash => "encoded slash or backslash in the path",
        RequestRejection.TargetTooLong => "request target too long",
        RequestRejection.InvalidVersion => "invalid HTTP version",
        RequestRejection.VersionNotSupported => "HTTP version not supported",
        RequestRejection.MissingColon => "header line without colon",
        RequestRejection.InvalidHeaderName => "invalid header name",
        RequestRejection.WhitespaceBeforeColon => "whitespace between header name and colon",
        RequestRejection.ObsFold => "obsolete line folding",
        RequestRejection.InvalidHeaderValue => "invalid octet in header value",
        RequestRejection.FramingHeaderLookalike => "header name imitating a framing field",
        RequestRejection.DuplicateHeader => "duplicate single-valued header",
        RequestRejection.HeadersTooLarge => "header section too large",
        RequestRejection.TooManyHeaders => "too many header fields",
        RequestRejection.FieldLineTooLarge => "header field line too large",
        RequestRejection.FieldNameTooLong => "header field name too long",
        RequestRejection.MissingHost => "missing Host",
        RequestRejection.DuplicateHost => "more than one Host",
        RequestRejection.InvalidHost => "invalid Host",
        RequestRejection.HostMismatch => "Host differs from the target authority",
        RequestRejection.InvalidContentLength => "invalid Content-Length",
        RequestRejection.ConflictingContentLength => "conflicting Content-Length values",
        RequestRejection.DuplicateContentLength => "repeated Content-Length",
        RequestRejection.BodyNotAllowed => "body on a TRACE request",
        RequestRejection.InvalidTransferEncoding => "invalid Transfer-Encoding",
        RequestRejection.ContentLengthWithTransferEncoding => "both Content-Length and Transfer-Encoding",
        RequestRejection.TransferEncodingInHttp10 => "Transfer-Encoding in HTTP/1.0",
        RequestRejection.DuplicateChunked => "chunked applied more than once",
        RequestRejection.ChunkedNotFinal => "chunked is not the final transfer coding",
        RequestRejection.UnsupportedTransferCoding => "unsupported transfer coding",
        RequestRejection.InvalidChunkSize => "invalid chunk size",
        RequestRejection.InvalidChunkExtension => "invalid chunk extension",
        RequestRejection.ChunkExtensionTooLong => "chunk line or extensions too long",
        RequestRejection.InvalidChunkDataTerminator => "chunk data not followed by CRLF",
        RequestRejection.TrailersTooLarge => "trailer section too large",
        RequestRejection.TrailerFieldNotAllowed => "field not allowed in trailers",
        RequestRejection.BodyTooLarge => "body too large",
        RequestRejection.InvalidConnection => "invalid Connection",
        RequestRejection.ConnectionOptionNotAllowed => "Connection option names a protected field",
        RequestRejection.UnsupportedExpectation => "unsupported expectation",
        RequestRejection.UpgradeWithBody => "upgrade request with a body",
        _ => "bad request",
    };
}
