using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>The .NET pitfalls of docs/http1-rules.md: each convenient API's failure, shown not to happen here.</summary>
public class NetPitfallTests
{
    private static byte[] Post(string fieldsUtf16, bool utf8 = false)
    {
        string text = "POST / HTTP/1.1\r\nHost: a.test\r\n" + fieldsUtf16 + "\r\n";
        return utf8 ? Encoding.UTF8.GetBytes(text) : Encoding.Latin1.GetBytes(text);
    }

    [Theory]
    [InlineData("Tran\u017Ffer-Encoding: chunked\r\n")]
    [InlineData("Transfer-Encod\u0131ng: chunked\r\n")]
    [InlineData("\u212Aeep-Alive: 1\r\nContent-Length: 1\r\n")]
    public void NET1_CultureCaseMappingOfLookalikes_NotAFramingField(string fields) =>
        Assert.Equal(RequestRejection.InvalidHeaderName, RequestVector.Parse(Post(fields, utf8: true)).Rejection);

    [Theory]
    [InlineData("Transfer-Encoding\u0088: chunked\r\n", RequestRejection.InvalidHeaderName)]
    [InlineData("Transfer-Encoding: chunked\u00a0\r\n", RequestRejection.InvalidTransferEncoding)]
    public void NET2_OctetsThatDecodingWouldHide_Rejected(string fields, RequestRejection reason) =>
        Assert.Equal(reason, RequestVector.Parse(Post(fields)).Rejection);

    [Theory]
    [InlineData("Content-Length: \u000b42\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("Content-Length: 42\u0085\r\n", RequestRejection.InvalidContentLength)]
    [InlineData("Transfer-Encoding: \u00a0chunked\r\n", RequestRejection.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: chunked\u000c\r\n", RequestRejection.InvalidHeaderValue)]
    public void NET3_OnlySpAndHtabAreTrimmed(string fields, RequestRejection reason) =>
        Assert.Equal(reason, RequestVector.Parse(Post(fields)).Rejection);

    [Theory]
    [InlineData("+42")]
    [InlineData("-5")]
    [InlineData("42abc")]
    [InlineData("0x2A")]
    [InlineData("\u0664\u0662")]
    public void NET4_LenientNumberFormats_Rejected(string value) =>
        Assert.Equal(RequestRejection.InvalidContentLength, RequestVector.Parse(Post($"Content-Length: {value}\r\n", utf8: true)).Rejection);

    [Fact]
    public void NET4_HexChunkSizeNeverWrapsNegative()
    {
        var decoder = new ChunkedDecoder();
        var reader = new SequenceReader<byte>(ByteSegments.Whole(ByteSegments.Latin1("FFFFFFFFFFFFFFFF\r\n")));
        Assert.Equal(ChunkStatus.Rejected, decoder.Decode(ref reader, long.MaxValue, new HeaderCollection(), out _, out RequestRejection rejection));
        Assert.Equal(RequestRejection.InvalidChunkSize, rejection);
    }

    [Fact]
    public void NET5_CrAndLfInDifferentSegments_StillOneTerminator()
    {
        byte[] request = ByteSegments.Latin1("GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n");
        for (int cut = 1; cut < request.Length; cut++)
        {
            RequestOutcome outcome = RequestVector.ParseOnce(ByteSegments.Split(request, [cut]), RequestVector.DefaultLimits);
            Assert.Equal(ParseStatus.Complete, outcome.Status);
            Assert.Equal(request.Length, outcome.Consumed);
        }
    }

    [Fact]
    public void NET6_LengthsBeyondInt32_KeptAs64Bit()
    {
        var limits = new HttpLimits { MaxBodyBytes = long.MaxValue };
        HttpRequestHead head = Request.Accepted("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5000000000\r\n\r\n", limits);
        Assert.Equal(5_000_000_000L, head.ContentLength);

        var decoder = new ChunkedDecoder();
        var reader = new SequenceReader<byte>(ByteSegments.Whole(ByteSegments.Latin1("12A05F200\r\nab")));
        Assert.Equal(ChunkStatus.Data, decoder.Decode(ref reader, long.MaxValue, new HeaderCollection(), out ReadOnlySequence<byte> data, out _));
        Assert.Equal(2, data.Length); // a 5 000 000 000-byte chunk is accepted and streamed
    }
}
