using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Rules CL-1 to CL-6 of docs/http1-rules.md (CL-7, a short body, belongs to the connection loop).</summary>
public class ContentLengthTests
{
    private static string Post(string fields, string method = "POST") => $"{method} / HTTP/1.1\r\nHost: a.test\r\n{fields}\r\n";

    [Theory]
    [InlineData("Content-Length:\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: +5\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: -5\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 1 2\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 0x5\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 5.0\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 5_0\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 5abc\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 1e3\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: \u0664\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 1000\u0011\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("Content-Length: \u00011000\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("Content-Length: 1000\u00a0\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: \"5\"\r\n", RequestRejection.InvalidContentLength)]
    public void CL1_NotPlainDecimal_Rejected(string field, RequestRejection reason) =>
        Request.Rejected(Post(field), reason, 400);

    [Theory]
    [InlineData("Content-Length: 5\r\n", 5)]
    [InlineData("Content-Length:5\r\n", 5)]
    [InlineData("Content-Length: \t42 \t\r\n", 42)]
    [InlineData("content-length: 0\r\n", 0)]
    public void CL1_PlainDecimal_Accepted(string field, long length)
    {
        HttpRequestHead head = Request.Accepted(Post(field));
        Assert.Equal(BodyFraming.ContentLength, head.Framing);
        Assert.Equal(length, head.ContentLength);
        Assert.False(head.Headers.Contains("content-length"));
    }

    [Fact]
    public void CL2_LeadingZeros_Decimal() =>
        Assert.Equal(7, Request.Accepted(Post("Content-Length: 007\r\n")).ContentLength);

    [Fact]
    public void CL2_LeadingZerosCountTowardDigitCap()
    {
        Assert.Equal(5, Request.Accepted(Post("Content-Length: 0000000000000000005\r\n")).ContentLength); // 19 digits
        Request.Rejected(Post("Content-Length: 00000000000000000005\r\n"), RequestRejection.InvalidContentLength, 400);
    }

    [Theory]
    [InlineData("18446744073709551616")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999")]
    public void CL3_Overflow_Rejected400(string value) =>
        Request.Rejected(Post($"Content-Length: {value}\r\n"), RequestRejection.InvalidContentLength, 400);

    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("1025")]
    public void CL3_FitsButOverBodyLimit_Rejected413(string value) =>
        Request.Rejected(Post($"Content-Length: {value}\r\n"), RequestRejection.BodyTooLarge, 413, new HttpLimits { MaxBodyBytes = 1024 });

    [Fact]
    public void CL3_AtBodyLimit_Accepted() =>
        Assert.Equal(1024, Request.Accepted(Post("Content-Length: 1024\r\n"), new HttpLimits { MaxBodyBytes = 1024 }).ContentLength);

    [Theory]
    [InlineData("Content-Length: 1000\r\nContent-Length: 100\r\n", RequestRejection.ConflictingContentLength)]
    [InlineData("Content-Length: 1000, 100\r\n", RequestRejection.ConflictingContentLength)]
    [InlineData("Content-Length: 1000,1000\r\n", RequestRejection.DuplicateContentLength)]
    [InlineData("Content-Length: 5\r\nContent-Length: 5\r\n", RequestRejection.DuplicateContentLength)]
    [InlineData("Content-Length: 42,\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: ,42\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 42, ,42\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length: 5\r\nContent-Length:\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Content-Length:\r\nContent-Length: 5\r\n", RequestRejection.InvalidContentLength)]
    public void CL4_SeveralValues_Rejected(string fields, RequestRejection reason) =>
        Request.Rejected(Post(fields), reason, 400);

    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 100\r\n")]
    [InlineData("Content-Length: 100\r\nTransfer-Encoding: chunked\r\n")]
    [InlineData("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n")]
    public void CL5_WithTransferEncoding_Rejected(string fields) =>
        Request.Rejected(Post(fields), RequestRejection.ContentLengthWithTransferEncoding, 400);

    [Theory]
    [InlineData("TRACE", "Content-Length: 1\r\n")]
    [InlineData("TRACE", "Transfer-Encoding: chunked\r\n")]
    public void BodyOnTrace_Rejected(string method, string fields) =>
        Request.Rejected(Post(fields, method), RequestRejection.BodyNotAllowed, 400);

    [Theory]
    [InlineData("GET", "Content-Length: 5\r\n", BodyFraming.ContentLength)]
    [InlineData("HEAD", "Content-Length: 5\r\n", BodyFraming.ContentLength)]
    [InlineData("GET", "Transfer-Encoding: chunked\r\n", BodyFraming.Chunked)]
    [InlineData("HEAD", "Transfer-Encoding: chunked\r\n", BodyFraming.Chunked)]
    [InlineData("DELETE", "Transfer-Encoding: chunked\r\n", BodyFraming.Chunked)]
    [InlineData("OPTIONS", "Content-Length: 5\r\n", BodyFraming.ContentLength)]
    public void BodyOnGetHeadDeleteOptions_AcceptedWithItsFraming(string method, string fields, BodyFraming framing) =>
        Assert.Equal(framing, Request.Accepted(Post(fields, method)).Framing);

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("TRACE")]
    public void ZeroLengthOnGetHeadTrace_AcceptedWithoutBody(string method)
    {
        HttpRequestHead head = Request.Accepted(Post("Content-Length: 0\r\n", method));
        Assert.Equal(BodyFraming.None, head.Framing);
        Assert.Equal(0, head.ContentLength);
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    [InlineData("PATCH")]
    [InlineData("PUT")]
    public void BodyOnOtherMethods_Accepted(string method) =>
        Assert.Equal(BodyFraming.ContentLength, Request.Accepted(Post("Content-Length: 3\r\n", method)).Framing);
}
