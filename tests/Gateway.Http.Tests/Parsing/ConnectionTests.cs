using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>The parsing side of HOP-2, HOP-3, EX-1, EX-2, UP-2, KA-1 and KA-3.</summary>
public class ConnectionTests
{
    private static string Get(string fields, string method = "GET", string version = "HTTP/1.1") =>
        $"{method} / {version}\r\nHost: a.test\r\n{fields}\r\n";

    [Theory]
    [InlineData("Connection: close\r\n", false)]
    [InlineData("Connection: Keep-Alive, CLOSE\r\n", false)]
    [InlineData("Connection: keep-alive\r\nConnection: close\r\n", false)]
    [InlineData("Connection: keep-alive\r\n", true)]
    [InlineData("Connection: x-custom\r\n", true)]
    [InlineData("", true)]
    public void HOP2_ConnectionOptions_DecideKeepAlive(string fields, bool keepAlive)
    {
        HttpRequestHead head = Request.Accepted(Get(fields));
        Assert.Equal(keepAlive, head.KeepAlive);
        Assert.Equal(fields.Length > 0, head.Headers.Contains("connection")); // left for the forwarder to strip (HOP-1)
    }

    [Theory]
    [InlineData("Connection: close x\r\n")]
    [InlineData("Connection: close,\r\n")]
    [InlineData("Connection: ,close\r\n")]
    [InlineData("Connection: \"close\"\r\n")]
    [InlineData("Connection:\r\n")]
    public void HOP2_NonTokenOption_Rejected(string fields) =>
        Request.Rejected(Get(fields), RequestRejection.InvalidConnection, 400);

    [Theory]
    [InlineData("Connection: close, X-Forwarded-Host\r\n")]
    [InlineData("Connection: Host\r\n")]
    [InlineData("Connection: content-length\r\n")]
    [InlineData("Connection: Transfer-Encoding\r\n")]
    [InlineData("Connection: authorization\r\n")]
    [InlineData("Connection: Via\r\n")]
    [InlineData("Connection: forwarded\r\n")]
    [InlineData("Connection: x-forwarded-for, close\r\n")]
    public void HOP3_OptionNamingProtectedField_Rejected(string fields) =>
        Request.Rejected(Get(fields), RequestRejection.ConnectionOptionNotAllowed, 400);

    [Theory]
    [InlineData("Expect: 100-continue\r\n")]
    [InlineData("Expect: 100-Continue\r\n")]
    [InlineData("Expect:  100-CONTINUE \r\n")]
    public void EX1_ContinueWithBody_FlagSetAndFieldConsumed(string fields)
    {
        HttpRequestHead head = Request.Accepted(Get(fields + "Content-Length: 5\r\n", "POST"));
        Assert.True(head.ExpectContinue);
        Assert.False(head.Headers.Contains("expect"));
    }

    [Theory]
    [InlineData("Expect: 200-ok\r\n")]
    [InlineData("Expect: 100-continue, x\r\n")]
    [InlineData("Expect:\r\n")]
    [InlineData("Expect: 100-continued\r\n")]
    public void EX1_OtherExpectation_Rejected417(string fields) =>
        Request.Rejected(Get(fields + "Content-Length: 5\r\n", "POST"), RequestRejection.UnsupportedExpectation, 417);

    [Fact]
    public void EX2_Http10Expect_Ignored()
    {
        HttpRequestHead head = Request.Accepted(Get("Expect: something-else\r\nContent-Length: 5\r\n", "POST", "HTTP/1.0"));
        Assert.False(head.ExpectContinue);
        Assert.False(head.Headers.Contains("expect"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Content-Length: 0\r\n")]
    public void EX2_NoBody_NoContinueNeeded(string fields) =>
        Assert.False(Request.Accepted(Get("Expect: 100-continue\r\n" + fields, "POST")).ExpectContinue);

    [Theory]
    [InlineData("Content-Length: 5\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\n")]
    public void UP2_UpgradeRequestWithBody_Rejected(string fields) =>
        Request.Rejected(Get("Upgrade: websocket\r\nConnection: Upgrade\r\n" + fields, "POST"), RequestRejection.UpgradeWithBody, 400);

    [Fact]
    public void UP2_UpgradeRequestWithoutBody_Accepted()
    {
        HttpRequestHead head = Request.Accepted(Get("Upgrade: websocket\r\nConnection: Upgrade\r\n"));
        Assert.Equal("websocket", head.Headers.Get("upgrade"));
    }

    [Fact]
    public void KA1_PipelinedRequests_EachStartsWhereThePreviousEnded()
    {
        byte[] stream = ByteSegments.Latin1(
            "POST /1 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\n\r\nGET \r\nGET /2 HTTP/1.1\r\nHost: a.test\r\n\r\n");
        var reader = new System.Buffers.SequenceReader<byte>(ByteSegments.OnePerByte(stream));
        var head = new HttpRequestHead();
        Assert.Equal(ParseStatus.Complete, RequestHeadParser.TryParse(ref reader, RequestVector.DefaultLimits, head, out _));
        Assert.Equal(4, head.ContentLength);
        reader.Advance(head.ContentLength); // the body "GET " is body, never a request (EX-4)
        // The body is followed by one CRLF, which G-4 allows before the next request line.
        Assert.Equal(ParseStatus.Complete, RequestHeadParser.TryParse(ref reader, RequestVector.DefaultLimits, head, out _));
        Assert.Equal("/2", head.Target);
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("HTTP/1.1", "", true)]
    [InlineData("HTTP/1.1", "Connection: close\r\n", false)]
    [InlineData("HTTP/1.0", "", false)]
    [InlineData("HTTP/1.0", "Connection: keep-alive\r\n", false)]
    public void KA3_Persistence_OnlyHttp11WithoutClose(string version, string fields, bool keepAlive) =>
        Assert.Equal(keepAlive, Request.Accepted(Get(fields, version: version)).KeepAlive);

    /// <summary>
    /// HOP-1: the parser tells the forwarder whether there is anything to strip; a head with no hop-by-hop field is not
    /// searched again. A head it did not parse (or a reset one) always is.
    /// </summary>
    [Theory]
    [InlineData("", false)]
    [InlineData("Accept: */*\r\nUser-Agent: t\r\n", false)]
    [InlineData("Connection: keep-alive\r\n", true)]
    [InlineData("Keep-Alive: timeout=5\r\n", true)]
    [InlineData("TE: trailers\r\n", true)]
    [InlineData("Proxy-Connection: keep-alive\r\n", true)]
    [InlineData("Upgrade: h2c\r\n", true)]
    [InlineData("Trailer: x\r\n", true)]
    [InlineData("Proxy-Authorization: Basic eA==\r\n", true)]
    [InlineData("HTTP2-Settings: AAA\r\n", true)]
    public void HOP1_ParserSaysWhetherHopByHopFieldsMayBeThere(string fields, bool may)
    {
        HttpRequestHead head = Request.Accepted(Get(fields));
        Assert.Equal(may, head.MayHoldHopByHopFields);
        head.Reset();
        Assert.True(head.MayHoldHopByHopFields);
    }
}
