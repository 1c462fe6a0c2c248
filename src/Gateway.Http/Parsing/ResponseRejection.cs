namespace Gateway.Http.Parsing;

/// <summary>
/// Every reason an upstream response head is refused (RS-1 to RS-3, RS-9). All of them mean 502 to the client and
/// closing the upstream connection (RS-10); <see cref="ResponseRejections.Reason"/> gives the text for the log.
/// </summary>
public enum ResponseRejection
{
    None = 0,
    BareLf,
    BareCr,
    Nul,
    StatusLineTooLong,
    InvalidStatusLine,
    InvalidVersion,
    VersionNotSupported,
    InvalidStatusCode,
    InvalidReasonPhrase,
    WhitespaceBeforeFirstHeader,
    MissingColon,
    InvalidHeaderName,
    WhitespaceBeforeColon,
    ObsFold,
    InvalidHeaderValue,
    FramingHeaderLookalike,
    HeadersTooLarge,
    TooManyHeaders,
    InvalidContentLength,
    ConflictingContentLength,
    DuplicateContentLength,
    InvalidTransferEncoding,
    ContentLengthWithTransferEncoding,
    TransferEncodingInHttp10,
    DuplicateChunked,
    UnsupportedTransferCoding,
    InvalidConnection,
}

public static class ResponseRejections
{
    /// <summary>The status the client receives for any invalid upstream response (RS-10).</summary>
    public const int StatusCode = 502;

    public static string Reason(ResponseRejection rejection) => rejection switch
    {
        ResponseRejection.None => "no rejection",
        ResponseRejection.BareLf => "upstream sent a line feed without carriage return",
        ResponseRejection.BareCr => "upstream sent a carriage return without line feed",
        ResponseRejection.Nul => "upstream sent NUL in the response head",
        ResponseRejection.StatusLineTooLong => "upstream status line too long",
        ResponseRejection.InvalidStatusLine => "malformed upstream status line",
        ResponseRejection.InvalidVersion => "invalid upstream HTTP version",
        ResponseRejection.VersionNotSupported => "unsupported upstream HTTP version",
        ResponseRejection.InvalidStatusCode => "invalid upstream status code",
        ResponseRejection.InvalidReasonPhrase => "invalid upstream reason phrase",
        ResponseRejection.WhitespaceBeforeFirstHeader => "upstream whitespace before the first header field",
        ResponseRejection.MissingColon => "upstream header line without colon",
        ResponseRejection.InvalidHeaderName => "invalid upstream header name",
        ResponseRejection.WhitespaceBeforeColon => "upstream whitespace between header name and colon",
        ResponseRejection.ObsFold => "upstream obsolete line folding",
        ResponseRejection.InvalidHeaderValue => "invalid octet in upstream header value",
        ResponseRejection.FramingHeaderLookalike => "upstream header name imitating a framing field",
        ResponseRejection.HeadersTooLarge => "upstream response head too large",
        ResponseRejection.TooManyHeaders => "too many upstream header fields",
        ResponseRejection.InvalidContentLength => "invalid upstream Content-Length",
        ResponseRejection.ConflictingContentLength => "conflicting upstream Content-Length values",
        ResponseRejection.DuplicateContentLength => "repeated upstream Content-Length",
        ResponseRejection.InvalidTransferEncoding => "invalid upstream Transfer-Encoding",
        ResponseRejection.ContentLengthWithTransferEncoding => "upstream sent both Content-Length and Transfer-Encoding",
        ResponseRejection.TransferEncodingInHttp10 => "upstream Transfer-Encoding in HTTP/1.0",
        ResponseRejection.DuplicateChunked => "upstream applied chunked more than once",
        ResponseRejection.UnsupportedTransferCoding => "upstream transfer coding the gateway cannot re-frame",
        ResponseRejection.InvalidConnection => "invalid upstream Connection",
        _ => "bad upstream response",
    };

    /// <summary>The response-side name of a rejection found by the parts shared with requests.</summary>
    internal static ResponseRejection From(RequestRejection rejection) => rejection switch
    {
        RequestRejection.None => ResponseRejection.None,
        RequestRejection.BareLf => ResponseRejection.BareLf,
        RequestRejection.BareCr => ResponseRejection.BareCr,
        RequestRejection.Nul => ResponseRejection.Nul,
        RequestRejection.TargetTooLong => ResponseRejection.StatusLineTooLong,
        RequestRejection.WhitespaceBeforeFirstHeader => ResponseRejection.WhitespaceBeforeFirstHeader,
        RequestRejection.MissingColon => ResponseRejection.MissingColon,
        RequestRejection.InvalidHeaderName => ResponseRejection.InvalidHeaderName,
        RequestRejection.WhitespaceBeforeColon => ResponseRejection.WhitespaceBeforeColon,
        RequestRejection.ObsFold => ResponseRejection.ObsFold,
        RequestRejection.InvalidHeaderValue => ResponseRejection.InvalidHeaderValue,
        RequestRejection.HeadersTooLarge => ResponseRejection.HeadersTooLarge,
        RequestRejection.TooManyHeaders => ResponseRejection.TooManyHeaders,
        RequestRejection.InvalidContentLength => ResponseRejection.InvalidContentLength,
        RequestRejection.ConflictingContentLength => ResponseRejection.ConflictingContentLength,
        RequestRejection.DuplicateContentLength => ResponseRejection.DuplicateContentLength,
        RequestRejection.InvalidTransferEncoding => ResponseRejection.InvalidTransferEncoding,
        RequestRejection.InvalidConnection => ResponseRejection.InvalidConnection,
        RequestRejection.InvalidRequestLine => ResponseRejection.InvalidStatusLine,
        _ => ResponseRejection.InvalidStatusLine,
    };
}
