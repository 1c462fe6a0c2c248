using System.Buffers;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Rules RS-1 to RS-3 and RS-6 to RS-9 of docs/http1-rules.md (the parsing side).</summary>
public class ResponseHeadParserTests
{
    private sealed record Outcome(ParseStatus Status, ResponseRejection Rejection, HttpResponseHead Head, long Consumed);

    private static Outcome ParseOnce(ReadOnlySequence<byte> sequence, bool requestWasHead, HttpLimits limits)
    {
        var reader = new SequenceReader<byte>(sequence);
        var head = new HttpResponseHead();
        ParseStatus status = ResponseHeadParser.TryParse(ref reader, limits, requestWasHead, head, out ResponseRejection rejection);
        if (status != ParseStatus.Complete)
        {
            Assert.Equal(0, reader.Consumed);
        }
        Assert.Equal(status == ParseStatus.Rejected, rejection != ResponseRejection.None);

        // A head parsed for forwarding keeps its fields otherwise (ForwardedResponseHeadTests) and gets the same verdict.
        var forwardingReader = new SequenceReader<byte>(sequence);
        var forwarded = new HttpResponseHead();
        Assert.Equal(status, ResponseHeadParser.TryParse(ref forwardingReader, limits, requestWasHead, forwarding: true, forwarded, out ResponseRejection again));
        Assert.Equal(rejection, again);
        Assert.Equal(reader.Consumed, forwardingReader.Consumed);
        Assert.Equal((head.StatusCode, head.Framing, head.ContentLength, head.KeepAlive), (forwarded.StatusCode, forwarded.Framing, forwarded.ContentLength, forwarded.KeepAlive));
        return new Outcome(status, rejection, head, reader.Consumed);
    }

    /// <summary>Whole, then one byte at a time as growing single-byte-segment prefixes; both must agree.</summary>
    private static Outcome Parse(string text, bool requestWasHead = false, HttpLimits? limits = null)
    {
        limits ??= RequestVector.DefaultLimits;
        byte[] bytes = ByteSegments.Latin1(text);
        Outcome whole = ParseOnce(ByteSegments.Whole(bytes), requestWasHead, limits);
        ReadOnlySequence<byte> all = ByteSegments.OnePerByte(bytes);
        Outcome trickled = ParseOnce(ReadOnlySequence<byte>.Empty, requestWasHead, limits);
        for (int length = 1; length <= bytes.Length && trickled.Status == ParseStatus.Incomplete; length++)
        {
            trickled = ParseOnce(all.Slice(0, length), requestWasHead, limits);
        }
        Assert.Equal(whole.Status, trickled.Status);
        Assert.Equal(whole.Rejection, trickled.Rejection);
        Assert.Equal(whole.Consumed, trickled.Consumed);
        Assert.Equal(whole.Head.Framing, trickled.Head.Framing);
        Assert.Equal(whole.Head.Headers.Count, trickled.Head.Headers.Count);
        return whole;
    }

    private static HttpResponseHead Accepted(string text, bool requestWasHead = false)
    {
        Outcome outcome = Parse(text, requestWasHead);
        Assert.True(outcome.Status == ParseStatus.Complete, $"expected acceptance, got {outcome.Rejection}");
        return outcome.Head;
    }

    private static void Rejected(string text, ResponseRejection reason, HttpLimits? limits = null)
    {
        Outcome outcome = Parse(text, limits: limits);
        Assert.Equal(ParseStatus.Rejected, outcome.Status);
        Assert.Equal(reason, outcome.Rejection);
        Assert.NotEqual("bad upstream response", ResponseRejections.Reason(reason));
    }

    [Fact]
    public void RS1_StatusLine_Parsed()
    {
        Outcome outcome = Parse("HTTP/1.1 404 Not Found\r\nX-A: 1\r\nContent-Length: 0\r\n\r\nnext");
        Assert.Equal(ParseStatus.Complete, outcome.Status);
        Assert.Equal(404, outcome.Head.StatusCode);
        Assert.Equal("Not Found", outcome.Head.ReasonPhrase);
        Assert.Equal(1, outcome.Head.MinorVersion);
        Assert.Equal(new KeyValuePair<string, string>("x-a", "1"), outcome.Head.Headers[0]);
        Assert.Equal(53, outcome.Consumed);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 \r\n", "")]
    [InlineData("HTTP/1.1 200\r\n", "")]
    [InlineData("HTTP/1.1 200 caf\u00e9 \tok\r\n", "caf\u00e9 \tok")]
    [InlineData("HTTP/1.0 599 x\r\n", "x")]
    public void RS1_ReasonPhraseVariants_Accepted(string statusLine, string reason) =>
        Assert.Equal(reason, Accepted(statusLine + "Content-Length: 0\r\n\r\n").ReasonPhrase);

    [Theory]
    [InlineData("HTTP/1.1 99 Low\r\n", ResponseRejection.InvalidStatusCode)]
    [InlineData("HTTP/1.1 99\r\n", ResponseRejection.InvalidStatusLine)]
    [InlineData("HTTP/1.1 099 Low\r\n", ResponseRejection.InvalidStatusCode)]
    [InlineData("HTTP/1.1 600 High\r\n", ResponseRejection.InvalidStatusCode)]
    [InlineData("HTTP/1.1 2000 Long\r\n", ResponseRejection.InvalidStatusCode)]
    [InlineData("HTTP/1.1 20x OK\r\n", ResponseRejection.InvalidStatusCode)]
    [InlineData("HTTP/1.1  200 OK\r\n", ResponseRejection.InvalidStatusCode)]
    [InlineData("http/1.1 200 OK\r\n", ResponseRejection.InvalidVersion)]
    [InlineData("HTTP/1.10 200 OK\r\n", ResponseRejection.InvalidStatusLine)]
    [InlineData("HTTP/2.0 200 OK\r\n", ResponseRejection.VersionNotSupported)]
    [InlineData("HTTP/0.9 200 OK\r\n", ResponseRejection.VersionNotSupported)]
    [InlineData("HTTP/1.1\t200 OK\r\n", ResponseRejection.InvalidStatusLine)]
    [InlineData("HTTP/1.1 200 O\u0001K\r\n", ResponseRejection.InvalidReasonPhrase)]
    [InlineData("HTTP/1.1 200 O\u007fK\r\n", ResponseRejection.InvalidReasonPhrase)]
    [InlineData("HTTP/1.1 200 O\rK\r\n", ResponseRejection.BareCr)]
    [InlineData("HTTP/1.1 200 O\0K\r\n", ResponseRejection.Nul)]
    [InlineData("HTTP/1.1 200 OK\n", ResponseRejection.BareLf)]
    [InlineData("\r\nHTTP/1.1 200 OK\r\n", ResponseRejection.InvalidStatusLine)]
    public void RS1_MalformedStatusLine_Rejected(string statusLine, ResponseRejection reason) =>
        Rejected(statusLine + "Content-Length: 0\r\n\r\n", reason);

    [Theory]
    [InlineData("X-A : 1\r\n", ResponseRejection.WhitespaceBeforeColon)]
    [InlineData("X-A: 1\r\n folded\r\n", ResponseRejection.ObsFold)]
    [InlineData(" X-A: 1\r\n", ResponseRejection.WhitespaceBeforeFirstHeader)]
    [InlineData("X-A: a\0b\r\n", ResponseRejection.Nul)]
    [InlineData("X-A: a\rb\r\n", ResponseRejection.BareCr)]
    [InlineData("X-A: a\nb\r\n", ResponseRejection.BareLf)]
    [InlineData("X-A: a\u0001\r\n", ResponseRejection.InvalidHeaderValue)]
    [InlineData("X-A\r\n", ResponseRejection.MissingColon)]
    [InlineData(": v\r\n", ResponseRejection.InvalidHeaderName)]
    [InlineData("Tr\u00e4nsfer-Encoding: chunked\r\n", ResponseRejection.InvalidHeaderName)]
    [InlineData("Transfer_Encoding: chunked\r\n", ResponseRejection.FramingHeaderLookalike)]
    [InlineData("Connection: close x\r\n", ResponseRejection.InvalidConnection)]
    public void RS2_FieldBreakingHeaderRules_Rejected(string field, ResponseRejection reason) =>
        Rejected("HTTP/1.1 200 OK\r\n" + field + "Content-Length: 0\r\n\r\n", reason);

    [Fact]
    public void RS2_SetCookieRepeated_KeptSeparate()
    {
        HttpResponseHead head = Accepted("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n");
        Assert.Equal(2, head.Headers.Count);
        Assert.Equal("a=1", head.Headers[0].Value);
        Assert.Equal("b=2", head.Headers[1].Value);
    }

    [Fact]
    public void RS3_Chunked_FramedByChunks()
    {
        HttpResponseHead head = Accepted("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        Assert.Equal(BodyFraming.Chunked, head.Framing);
        Assert.True(head.KeepAlive);
        Assert.False(head.Headers.Contains("transfer-encoding"));
    }

    [Fact]
    public void RS3_ContentLength_FramedByLength()
    {
        HttpResponseHead head = Accepted("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
        Assert.Equal(BodyFraming.ContentLength, head.Framing);
        Assert.Equal(12, head.ContentLength);
        Assert.False(head.Headers.Contains("content-length"));
    }

    [Fact]
    public void RS3_NoFraming_CloseDelimitedNeverReused()
    {
        HttpResponseHead head = Accepted("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n");
        Assert.Equal(BodyFraming.CloseDelimited, head.Framing);
        Assert.False(head.KeepAlive);
    }

    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", ResponseRejection.ContentLengthWithTransferEncoding)]
    [InlineData("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", ResponseRejection.ContentLengthWithTransferEncoding)]
    [InlineData("Transfer-Encoding: chunked, chunked\r\n", ResponseRejection.DuplicateChunked)]
    [InlineData("Transfer-Encoding: gzip\r\n", ResponseRejection.UnsupportedTransferCoding)]
    [InlineData("Transfer-Encoding: gzip, chunked\r\n", ResponseRejection.UnsupportedTransferCoding)]
    [InlineData("Transfer-Encoding: ,chunked\r\n", ResponseRejection.InvalidTransferEncoding)]
    [InlineData("Content-Length: 5\r\nContent-Length: 6\r\n", ResponseRejection.ConflictingContentLength)]
    [InlineData("Content-Length: 5, 5\r\n", ResponseRejection.DuplicateContentLength)]
    [InlineData("Content-Length: +5\r\n", ResponseRejection.InvalidContentLength)]
    [InlineData("Content-Length: 18446744073709551616\r\n", ResponseRejection.InvalidContentLength)]
    public void RS3_InvalidOrAmbiguousFraming_Rejected(string fields, ResponseRejection reason) =>
        Rejected("HTTP/1.1 200 OK\r\n" + fields + "\r\n", reason);

    [Fact]
    public void RS3_Http10WithTransferEncoding_Rejected() =>
        Rejected("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ResponseRejection.TransferEncodingInHttp10);

    [Theory]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false)]
    [InlineData("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", true)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", false)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", true)]
    public void RS3_Persistence_FollowsVersionAndConnection(string response, bool keepAlive) =>
        Assert.Equal(keepAlive, Accepted(response).KeepAlive);

    [Theory]
    [InlineData("Content-Length: 10\r\n", 10)]
    [InlineData("Transfer-Encoding: chunked\r\n", 0)]
    [InlineData("", 0)]
    public void RS6_HeadResponse_NoBodyWhateverFramingSays(string fields, long metadataLength)
    {
        HttpResponseHead head = Accepted("HTTP/1.1 200 OK\r\n" + fields + "\r\n", requestWasHead: true);
        Assert.Equal(BodyFraming.None, head.Framing);
        Assert.Equal(metadataLength, head.ContentLength);
        Assert.True(head.KeepAlive);
    }

    [Theory]
    [InlineData(204, "Content-Length: 10\r\n", 0)]
    [InlineData(204, "Transfer-Encoding: chunked\r\n", 0)]
    [InlineData(304, "Content-Length: 10\r\n", 10)]
    [InlineData(304, "Transfer-Encoding: chunked\r\n", 0)]
    [InlineData(304, "", 0)]
    public void RS7_204And304_NoBody(int status, string fields, long metadataLength)
    {
        HttpResponseHead head = Accepted($"HTTP/1.1 {status} X\r\n{fields}\r\n");
        Assert.Equal(BodyFraming.None, head.Framing);
        Assert.Equal(metadataLength, head.ContentLength);
        Assert.False(head.Headers.Contains("transfer-encoding"));
        Assert.False(head.Headers.Contains("content-length"));
    }

    [Fact]
    public void RS8_InterimResponses_ReturnedOneAtATime()
    {
        byte[] bytes = ByteSegments.Latin1(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var reader = new SequenceReader<byte>(ByteSegments.OnePerByte(bytes));
        var head = new HttpResponseHead();
        var statuses = new List<int>();
        while (ResponseHeadParser.TryParse(ref reader, RequestVector.DefaultLimits, false, head, out _) == ParseStatus.Complete)
        {
            statuses.Add(head.StatusCode);
            Assert.Equal(head.StatusCode < 200 ? BodyFraming.None : BodyFraming.ContentLength, head.Framing);
            if (head.StatusCode >= 200)
            {
                break;
            }
        }
        Assert.Equal([100, 103, 200], statuses);
        Assert.Equal(2, reader.Remaining);
    }

    [Fact]
    public void RS8_SwitchingProtocols_NoBody() =>
        Assert.Equal(BodyFraming.None, Accepted("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n").Framing);

    [Fact]
    public void RS9_HeadOverLimits_Rejected()
    {
        Rejected("HTTP/1.1 200 OK\r\nX-A: " + new string('v', 200) + "\r\n\r\n", ResponseRejection.HeadersTooLarge, new HttpLimits { MaxHeaderBytes = 100 });
        Rejected("HTTP/1.1 200 OK\r\nX-A: " + new string('v', 200), ResponseRejection.HeadersTooLarge, new HttpLimits { MaxHeaderBytes = 100 });
        Rejected("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", ResponseRejection.TooManyHeaders, new HttpLimits { MaxHeaderCount = 2 });
        Rejected("HTTP/1.1 200 " + new string('r', 100), ResponseRejection.StatusLineTooLong, new HttpLimits { MaxRequestLineBytes = 64 });
    }

    [Fact]
    public void RS9_ConnectionOptionsOfUpstream_NotRefused()
    {
        // HOP-3 protects the request from the client; an upstream naming its own fields only strips them.
        HttpResponseHead head = Accepted("HTTP/1.1 200 OK\r\nConnection: x-forwarded-for, close\r\nContent-Length: 0\r\n\r\n");
        Assert.False(head.KeepAlive);
    }

    [Fact]
    public void RS10_EveryRejection_Is502() =>
        Assert.Equal(502, ResponseRejections.StatusCode);
}
