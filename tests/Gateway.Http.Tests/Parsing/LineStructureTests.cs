using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Rules G-1 to G-8 of docs/http1-rules.md.</summary>
public class LineStructureTests
{
    [Theory]
    [InlineData("GET / HTTP/1.1\nHost: a.test\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\nX: y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\n\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\n\n")]
    public void G1_BareLfTerminator_Rejected(string request) =>
        Request.Rejected(request, RequestRejection.BareLf, 400);

    [Fact]
    public void G1_CrlfTerminators_Accepted() =>
        Assert.Equal("a.test", Request.Accepted("GET / HTTP/1.1\r\nHost: a.test\r\nX: y\r\n\r\n").Authority);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nX-A: \rTransfer-Encoding: chunked\r\nHost: a.test\r\n\r\n")]
    [InlineData("GET /\r HTTP/1.1\r\nHost: a.test\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\n\rX: y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\nX\r: y\r\n\r\n")]
    public void G2_BareCr_Rejected(string request) =>
        Request.Rejected(request, RequestRejection.BareCr, 400);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\nX-A: a\0b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\n\0X-A: b\r\n\r\n")]
    [InlineData("GET /a\0 HTTP/1.1\r\nHost: a.test\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\nX-A\0: b\r\n\r\n")]
    public void G3_Nul_Rejected(string request) =>
        Request.Rejected(request, RequestRejection.Nul, 400);

    [Fact]
    public void G4_OneLeadingCrlf_Skipped()
    {
        RequestOutcome outcome = RequestVector.Parse("\r\nGET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
        Assert.Equal(ParseStatus.Complete, outcome.Status);
        Assert.Equal(34, outcome.Consumed); // the skipped CRLF is consumed with the head
    }

    [Theory]
    [InlineData("\r\n\r\nGET / HTTP/1.1\r\nHost: a.test\r\n\r\n", RequestRejection.InvalidRequestLine)]
    [InlineData(" GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", RequestRejection.InvalidRequestLine)]
    [InlineData("\tGET / HTTP/1.1\r\nHost: a.test\r\n\r\n", RequestRejection.InvalidMethod)]
    [InlineData("\nGET / HTTP/1.1\r\nHost: a.test\r\n\r\n", RequestRejection.BareLf)]
    [InlineData("\r\n\nGET / HTTP/1.1\r\nHost: a.test\r\n\r\n", RequestRejection.BareLf)]
    public void G4_AnythingElseBeforeRequestLine_Rejected(string request, RequestRejection reason) =>
        Request.Rejected(request, reason, 400);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n Host: a.test\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\n\tHost: a.test\r\n\r\n")]
    public void G5_WhitespaceBeforeFirstField_Rejected(string request) =>
        Request.Rejected(request, RequestRejection.WhitespaceBeforeFirstHeader, 400);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\n\r")]
    [InlineData("GET / HTTP/1.1\r\nHost: a.te")]
    [InlineData("GET / HTTP/1.1\r")]
    [InlineData("\r")]
    [InlineData("")]
    public void G6_HeadWithoutEmptyLine_Incomplete(string request) =>
        Request.Incomplete(request);

    [Fact]
    public void G6_HeadEndsAtEmptyLine_BodyBytesNotConsumed()
    {
        RequestOutcome outcome = RequestVector.Parse("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabc");
        Assert.Equal(ParseStatus.Complete, outcome.Status);
        Assert.Equal(52, outcome.Consumed);
    }

    [Theory]
    [InlineData("Tran\u017Ffer-Encoding")] // long s, upper-cases to S under invariant culture (NET-1)
    [InlineData("Transfer-Encod\u0131ng")] // dotless i
    [InlineData("Content-Length\u212A")] // Kelvin sign
    public void G7_NonAsciiLookalikeNames_RejectedAsBytes(string name)
    {
        byte[] request = [.. ByteSegments.Latin1("POST / HTTP/1.1\r\nHost: a.test\r\n"), .. System.Text.Encoding.UTF8.GetBytes(name),
            .. ByteSegments.Latin1(": chunked\r\n\r\n")];
        RequestOutcome outcome = RequestVector.Parse(request);
        Assert.Equal(RequestRejection.InvalidHeaderName, outcome.Rejection);
    }

    [Fact]
    public void G7_AsciiCaseFolding_RecognizesFramingNames()
    {
        var head = Request.Accepted("POST / HTTP/1.1\r\nHOST: a.test\r\nCONTENT-LENGTH: 4\r\n\r\n");
        Assert.Equal(Gateway.Http.Messages.BodyFraming.ContentLength, head.Framing);
        Assert.Equal(4, head.ContentLength);
    }

    [Fact]
    public void G8_RejectedHead_ConsumesNothing()
    {
        // The parser never skips ahead to look for "the next request": a rejected head leaves the reader where it was.
        RequestOutcome outcome = RequestVector.Parse(
            "GET / HTTP/1.1\r\nHost: a.test\r\nX : y\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n");
        Assert.Equal(ParseStatus.Rejected, outcome.Status);
        Assert.Equal(0, outcome.Consumed);
    }
}
