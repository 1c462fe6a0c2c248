using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Rules TE-1 to TE-9 of docs/http1-rules.md.</summary>
public class TransferEncodingTests
{
    private static string Post(string fields, string version = "HTTP/1.1") => $"POST / {version}\r\nHost: a.test\r\n{fields}\r\n";

    [Theory]
    [InlineData("Transfer-Encoding: ,chunked\r\n")]
    [InlineData("Transfer-Encoding: chunked,\r\n")]
    [InlineData("Transfer-Encoding: gzip, ,chunked\r\n")]
    [InlineData("Transfer-Encoding:\r\n")]
    [InlineData("Transfer-Encoding: chunked;custom_param;\r\n")]
    [InlineData("Transfer-Encoding: chunked;x\r\n")]
    [InlineData("Transfer-Encoding: chunked;q=1\r\n")]
    [InlineData("Transfer-Encoding: gzip;level\r\n")]
    [InlineData("Transfer-Encoding: gzip;=1, chunked\r\n")]
    [InlineData("Transfer-Encoding: gzip;a=\"x, chunked\r\n")]
    [InlineData("Transfer-Encoding: \"chunked\"\r\n")]
    [InlineData("Transfer-Encoding: chunked chunked\r\n")]
    [InlineData("Transfer-Encoding: chun/ked\r\n")]
    public void TE1_InvalidCodingList_Rejected(string fields) =>
        Request.Rejected(Post(fields), RequestRejection.InvalidTransferEncoding, 400);

    [Theory]
    [InlineData("Transfer-Encoding: gzip;level=1, chunked\r\n")]
    [InlineData("Transfer-Encoding: gzip ; level = \"1\" , chunked\r\n")]
    public void TE1_ParametersOnOtherCodings_ParsedThenUnsupported(string fields) =>
        Request.Rejected(Post(fields), RequestRejection.UnsupportedTransferCoding, 501);

    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\n")]
    [InlineData("Transfer-Encoding:  chunked \t\r\n")]
    public void TE1_ExactlyChunked_Accepted(string fields)
    {
        HttpRequestHead head = Request.Accepted(Post(fields));
        Assert.Equal(BodyFraming.Chunked, head.Framing);
        Assert.False(head.Headers.Contains("transfer-encoding"));
    }

    [Theory]
    [InlineData("Transfer-Encoding: chunked, chunked\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")]
    [InlineData("Transfer-Encoding: chunked,chunked\r\n")]
    public void TE2_ChunkedTwice_Rejected(string fields) =>
        Request.Rejected(Post(fields), RequestRejection.DuplicateChunked, 400);

    [Theory]
    [InlineData("Transfer-Encoding: gzip\r\n")]
    [InlineData("Transfer-Encoding: chunked, gzip\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n")]
    [InlineData("Transfer-Encoding: identity\r\n")]
    public void TE3_ChunkedNotFinal_Rejected400(string fields) =>
        Request.Rejected(Post(fields), RequestRejection.ChunkedNotFinal, 400);

    [Theory]
    [InlineData("Transfer-Encoding: xchunked\r\n")]
    [InlineData("Transfer-Encoding: chunk\r\n")]
    public void TE4_UnknownCodingAsFinal_Rejected400(string fields) =>
        Request.Rejected(Post(fields), RequestRejection.ChunkedNotFinal, 400);

    [Theory]
    [InlineData("Transfer-Encoding: identity, chunked\r\n")]
    [InlineData("Transfer-Encoding: foo, chunked\r\n")]
    [InlineData("Transfer-Encoding: gzip, chunked\r\n")]
    [InlineData("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")]
    public void TE4_CodingBeforeChunked_Rejected501(string fields) =>
        Request.Rejected(Post(fields), RequestRejection.UnsupportedTransferCoding, 501);

    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 100\r\n")]
    [InlineData("Content-Length: 100\r\nTransfer-Encoding: chunked\r\n")]
    public void TE5_WithContentLength_Rejected(string fields) =>
        Request.Rejected(Post(fields), RequestRejection.ContentLengthWithTransferEncoding, 400);

    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")]
    public void TE6_Http10WithTransferEncoding_Rejected(string fields) =>
        Request.Rejected(Post(fields, "HTTP/1.0"), RequestRejection.TransferEncodingInHttp10, 400);

    [Theory]
    [InlineData("Transfer-Encoding: chunked\u0001\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("Transfer-Encoding: \u0001chunked\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("Transfer-Encoding: chunked\u00a0\r\n", RequestRejection.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: \u00a0chunked\r\n", RequestRejection.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: chunked\u007f\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("Transfer-Encoding: \0chunked\r\n", RequestRejection.Nul)]
    [InlineData("Transfer-Encoding: chunked\u0080\r\n", RequestRejection.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: \u000bchunked\r\n", RequestRejection.InvalidHeaderValue)]
    public void TE7_NonGrammarOctet_Rejected(string fields, RequestRejection reason) =>
        Request.Rejected(Post(fields), reason, 400);

    [Fact]
    public void TE8_NoFramingFields_ZeroLengthAndNextRequestFollows()
    {
        byte[] stream = ByteSegments.Latin1("POST /a HTTP/1.1\r\nHost: a.test\r\n\r\nGET /b HTTP/1.1\r\nHost: a.test\r\n\r\n");
        var reader = new System.Buffers.SequenceReader<byte>(ByteSegments.OnePerByte(stream));
        var head = new HttpRequestHead();
        Assert.Equal(ParseStatus.Complete, RequestHeadParser.TryParse(ref reader, RequestVector.DefaultLimits, head, out _));
        Assert.Equal(BodyFraming.None, head.Framing);
        Assert.Equal(0, head.ContentLength);
        Assert.Equal(ParseStatus.Complete, RequestHeadParser.TryParse(ref reader, RequestVector.DefaultLimits, head, out _));
        Assert.Equal("/b", head.Target);
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("TrAnSfEr-EnCoDiNg: ChUnKeD\r\n")]
    [InlineData("TRANSFER-ENCODING: CHUNKED\r\n")]
    public void TE9_AnyAsciiCase_Chunked(string fields) =>
        Assert.Equal(BodyFraming.Chunked, Request.Accepted(Post(fields)).Framing);
}
