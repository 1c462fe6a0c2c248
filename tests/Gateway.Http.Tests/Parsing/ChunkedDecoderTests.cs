using System.Buffers;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Rules CH-1 to CH-8 of docs/http1-rules.md (CH-9 concerns the forwarder); every vector is decoded
/// whole, one byte at a time, and split in two at every position.</summary>
public class ChunkedDecoderTests
{
    private const long Unlimited = 1L << 40;
    private const string After = "GET /next HTTP/1.1\r\n";

    private sealed record Decoded(ChunkStatus Status, RequestRejection Rejection, string Payload, HeaderCollection Trailers, long Consumed);

    /// <summary>Decodes as a pipe would deliver <paramref name="bytes"/>, cut at <paramref name="cuts"/>; bytes not
    /// consumed by one round are offered again with the next delivery.</summary>
    private static Decoded DecodeDelivered(byte[] bytes, IReadOnlyList<int> cuts, long maxBody)
    {
        var decoder = new ChunkedDecoder();
        var trailers = new HeaderCollection();
        var payload = new List<byte>();
        ReadOnlySequence<byte> all = ByteSegments.Split(bytes, cuts);
        long consumed = 0;
        var deliveries = new List<int>(cuts) { bytes.Length };
        foreach (int available in deliveries)
        {
            if (available <= consumed)
            {
                continue;
            }
            var reader = new SequenceReader<byte>(all.Slice(consumed, available - consumed));
            while (true)
            {
                ChunkStatus status = decoder.Decode(ref reader, maxBody, trailers, out ReadOnlySequence<byte> data, out RequestRejection rejection);
                if (status == ChunkStatus.Data)
                {
                    Assert.True(data.Length > 0);
                    payload.AddRange(data.ToArray());
                    continue;
                }
                Assert.Equal(status == ChunkStatus.Rejected, rejection != RequestRejection.None);
                consumed += reader.Consumed;
                if (status != ChunkStatus.NeedMoreData)
                {
                    return new Decoded(status, rejection, ByteSegments.Latin1String(payload), trailers, consumed);
                }
                break;
            }
        }
        return new Decoded(ChunkStatus.NeedMoreData, RequestRejection.None, ByteSegments.Latin1String(payload), trailers, consumed);
    }

    /// <summary>
    /// Whole, one byte per delivery, and two-way splits must agree. Splits are taken at every position of vectors up
    /// to 512 bytes; the few multi-kilobyte limit vectors are split at every position of their first and last 64
    /// bytes and every 31st in between, which keeps the suite fast on a shared CI machine.
    /// </summary>
    private static Decoded Decode(string body, long maxBody = Unlimited)
    {
        byte[] bytes = ByteSegments.Latin1(body);
        Decoded whole = DecodeDelivered(bytes, [], maxBody);
        AssertSame(whole, DecodeDelivered(bytes, [.. Enumerable.Range(1, bytes.Length - 1)], maxBody));
        for (int cut = 1; cut < bytes.Length; cut++)
        {
            if (bytes.Length <= 512 || cut < 64 || cut > bytes.Length - 64 || cut % 31 == 0)
            {
                AssertSame(whole, DecodeDelivered(bytes, [cut], maxBody));
            }
        }
        return whole;
    }

    private static void AssertSame(Decoded expected, Decoded actual)
    {
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.Rejection, actual.Rejection);
        Assert.Equal(expected.Payload, actual.Payload);
        Assert.Equal(expected.Consumed, actual.Consumed);
        Assert.Equal(expected.Trailers.Count, actual.Trailers.Count);
    }

    private static void Rejected(string body, RequestRejection reason, long maxBody = Unlimited)
    {
        Decoded decoded = Decode(body, maxBody);
        Assert.Equal(ChunkStatus.Rejected, decoded.Status);
        Assert.Equal(reason, decoded.Rejection);
    }

    private static Decoded Completed(string body, string payload)
    {
        Decoded decoded = Decode(body + After);
        Assert.True(decoded.Status == ChunkStatus.Complete, $"expected Complete, got {decoded.Status} {decoded.Rejection}");
        Assert.Equal(payload, decoded.Payload);
        Assert.Equal(body.Length, decoded.Consumed); // the next request starts right after the final CRLF
        return decoded;
    }

    [Fact]
    public void SeveralChunks_PayloadConcatenated() =>
        Completed("5\r\nhello\r\n1\r\n,\r\nb\r\n 0123456789\r\n0\r\n\r\n", "hello, 0123456789");

    [Fact]
    public void TruncatedBody_NeedsMoreData()
    {
        Decoded decoded = Decode("5\r\nhel");
        Assert.Equal(ChunkStatus.NeedMoreData, decoded.Status);
        Assert.Equal("hel", decoded.Payload);
        Assert.Equal(6, decoded.Consumed); // everything consumable was consumed
    }

    [Theory]
    [InlineData("0x5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("+5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("-5\r\nhello\r\n0\r\n\r\n")]
    [InlineData(" 5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5 \r\nhello\r\n0\r\n\r\n")]
    [InlineData("5_0\r\nhello\r\n0\r\n\r\n")]
    [InlineData("\r\nhello\r\n0\r\n\r\n")]
    [InlineData("g\r\n")]
    [InlineData("5\r\nhello\r\n\r\n")]
    public void CH1_SizeNotBareHex_Rejected(string body) =>
        Rejected(body, RequestRejection.InvalidChunkSize);

    [Fact]
    public void CH1_UpperAndLowerHex_Accepted() =>
        Completed("A\r\n0123456789\r\nb\r\n0123456789a\r\n0\r\n\r\n", "01234567890123456789a");

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFF\r\n")]
    [InlineData("10000000000000000\r\n")]
    [InlineData("8000000000000000\r\n")]
    [InlineData("00000000000000005\r\nhello\r\n0\r\n\r\n")]
    public void CH2_SizeOverflowOrTooManyDigits_Rejected400(string body) =>
        Rejected(body, RequestRejection.InvalidChunkSize);

    [Fact]
    public void CH2_LargestSignedSize_ExceedsBodyLimit413() =>
        Rejected("7FFFFFFFFFFFFFFF\r\n", RequestRejection.BodyTooLarge, maxBody: 1 << 20);

    [Fact]
    public void CH2_LeadingZerosWithinCap_Accepted() =>
        Completed("0000000000000005\r\nhello\r\n000\r\n\r\n", "hello");

    [Theory]
    [InlineData("5\nhello\r\n0\r\n\r\n", RequestRejection.BareLf)]
    [InlineData("5\r\r\nhello\r\n0\r\n\r\n", RequestRejection.BareCr)]
    [InlineData("5\rhello\r\n0\r\n\r\n", RequestRejection.BareCr)]
    [InlineData("5\r\nhello\r\n0\n\r\n", RequestRejection.BareLf)]
    [InlineData("5\r\nhello\r\n0\r\n\n", RequestRejection.BareLf)]
    [InlineData("5;a=b\nhello\r\n0\r\n\r\n", RequestRejection.BareLf)]
    [InlineData("5\0\r\nhello\r\n0\r\n\r\n", RequestRejection.Nul)]
    public void CH3_ChunkLineNotEndingInCrlf_Rejected(string body, RequestRejection reason) =>
        Rejected(body, reason);

    [Theory]
    [InlineData("5;a\nb\r\nhello\r\n0\r\n\r\n", RequestRejection.BareLf)]
    [InlineData("5;a=\"x\r\ny\"\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=\"x\ny\"\r\nhello\r\n0\r\n\r\n", RequestRejection.BareLf)]
    [InlineData("5;a=\u0001\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=\"\u0001\"\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=\"\0\"\r\nhello\r\n0\r\n\r\n", RequestRejection.Nul)]
    [InlineData("5;=x\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=b \r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a \r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=\"unterminated\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=b\"c\"\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a=\"\\\r\"\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    [InlineData("5;a@=b\r\nhello\r\n0\r\n\r\n", RequestRejection.InvalidChunkExtension)]
    public void CH4_ExtensionOutsideGrammar_Rejected(string body, RequestRejection reason) =>
        Rejected(body, reason);

    [Theory]
    [InlineData("5 ; a = b\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a;b=c;d=\"e f\"\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=\"q\\\"x\\\\\"\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=\"caf\u00e9\"\r\nhello\r\n0;last\r\n\r\n")]
    [InlineData("5\t;\ta\t=\t\"b\"\t;c\r\nhello\r\n0\r\n\r\n")]
    public void CH4_ExtensionWithinGrammar_AcceptedAndDiscarded(string body) =>
        Completed(body, "hello");

    [Fact]
    public void CH5_ChunkLineOver1KiB_Rejected() =>
        Rejected("5;a=" + new string('x', 1100) + "\r\nhello\r\n0\r\n\r\n", RequestRejection.ChunkExtensionTooLong);

    [Fact]
    public void CH5_ExtensionBytesOver4KiBPerBody_Rejected()
    {
        string chunk = "1;a=" + new string('x', 500) + "\r\nx\r\n";
        Rejected(string.Concat(Enumerable.Repeat(chunk, 10)) + "0\r\n\r\n", RequestRejection.ChunkExtensionTooLong);
        Completed(string.Concat(Enumerable.Repeat(chunk, 7)) + "0\r\n\r\n", new string('x', 7));
    }

    [Theory]
    [InlineData("5\r\nhelloXX0\r\n\r\n", RequestRejection.InvalidChunkDataTerminator)]
    [InlineData("5\r\nhello\n0\r\n\r\n", RequestRejection.BareLf)]
    [InlineData("5\r\nhelloo\r\n0\r\n\r\n", RequestRejection.InvalidChunkDataTerminator)]
    [InlineData("5\r\nhello\rX0\r\n\r\n", RequestRejection.BareCr)]
    [InlineData("5\r\nhell\r\n0\r\n\r\n", RequestRejection.BareLf)]
    public void CH6_DataNotFollowedByCrlf_Rejected(string body, RequestRejection reason) =>
        Rejected(body, reason);

    [Fact]
    public void CH7_Trailers_ValidatedLowerCasedAndReturnedSeparately()
    {
        Decoded decoded = Completed("5\r\nhello\r\n0\r\nX-T: 1\r\nServer-Timing: a;dur=2 \r\n\r\n", "hello");
        Assert.Equal(2, decoded.Trailers.Count);
        Assert.Equal(new KeyValuePair<string, string>("x-t", "1"), decoded.Trailers[0]);
        Assert.Equal(new KeyValuePair<string, string>("server-timing", "a;dur=2"), decoded.Trailers[1]);
    }

    [Fact]
    public void CH7_LongTrailerLineAcrossSegments_Kept()
    {
        string value = new string('v', 700);
        Decoded decoded = Completed("0\r\nX-Long: " + value + "\r\n\r\n", "");
        Assert.Equal(value, decoded.Trailers.Get("x-long"));
    }

    [Theory]
    [InlineData("0\r\nX-T: 1\n\r\n", RequestRejection.BareLf)]
    [InlineData("0\r\n X-T: 1\r\n\r\n", RequestRejection.WhitespaceBeforeFirstHeader)]
    [InlineData("0\r\nX-A: 1\r\n X-T: 1\r\n\r\n", RequestRejection.ObsFold)]
    [InlineData("0\r\nX-T : 1\r\n\r\n", RequestRejection.WhitespaceBeforeColon)]
    [InlineData("0\r\nX-T: a\rb\r\n\r\n", RequestRejection.BareCr)]
    [InlineData("0\r\nX-T: a\0\r\n\r\n", RequestRejection.Nul)]
    [InlineData("0\r\nX-T\r\n\r\n", RequestRejection.MissingColon)]
    [InlineData("0\r\nX-T: \u0001\r\n\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("0\r\nContent-Length: 5\r\n\r\n", RequestRejection.TrailerFieldNotAllowed)]
    [InlineData("0\r\nTransfer-Encoding: chunked\r\n\r\n", RequestRejection.TrailerFieldNotAllowed)]
    [InlineData("0\r\nHost: b.test\r\n\r\n", RequestRejection.TrailerFieldNotAllowed)]
    [InlineData("0\r\nAuthorization: x\r\n\r\n", RequestRejection.TrailerFieldNotAllowed)]
    [InlineData("0\r\nContent_Length: 5\r\n\r\n", RequestRejection.TrailerFieldNotAllowed)]
    public void CH7_TrailerBreakingHeaderRules_Rejected(string body, RequestRejection reason) =>
        Rejected(body, reason);

    [Fact]
    public void CH7_TrailerSectionOverLimit_Rejected()
    {
        string trailer = "X-T: " + new string('v', 1000) + "\r\n";
        Rejected("0\r\n" + string.Concat(Enumerable.Repeat(trailer, 9)) + "\r\n", RequestRejection.TrailersTooLarge);
        Rejected("0\r\nX-T: " + new string('v', 9000), RequestRejection.TrailersTooLarge);
    }

    [Fact]
    public void CH8_SumOfChunksOverBodyLimit_Rejected413()
    {
        Rejected("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", RequestRejection.BodyTooLarge, maxBody: 9);
        Assert.Equal(413, RequestRejections.StatusCode(RequestRejection.BodyTooLarge));
        Assert.Equal(ChunkStatus.Complete, Decode("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", maxBody: 10).Status);
    }

    [Fact]
    public void CompletedDecoder_StaysComplete()
    {
        var decoder = new ChunkedDecoder();
        var reader = new SequenceReader<byte>(ByteSegments.Whole(ByteSegments.Latin1("0\r\n\r\nX")));
        var trailers = new HeaderCollection();
        Assert.Equal(ChunkStatus.Complete, decoder.Decode(ref reader, Unlimited, trailers, out _, out _));
        Assert.Equal(ChunkStatus.Complete, decoder.Decode(ref reader, Unlimited, trailers, out _, out _));
        Assert.Equal(5, reader.Consumed);
    }
}
