using System.Text;
using Gateway.Perf.Load;
using static Gateway.Perf.Load.ResponseFraming;

namespace Gateway.Perf.Tests.Framing;

/// <summary>
/// Where the load generator decides one response ends (RFC 9112 §6.3): a body framed by Content-Length or chunked is
/// complete only when all of it is in, bytes after it are left for the next response, and anything the class does not
/// claim to read (no status code, a bad length, a close-delimited body) is reported, never guessed at.
/// </summary>
public sealed class ResponseFramingTests
{
    private const string ChunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

    [Fact]
    public void ContentLengthBody_AllIn_IsCompleteAtItsEnd()
    {
        var framed = Frame("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");

        Assert.Equal(Outcome.Complete, framed.Outcome);
        Assert.Equal(Encoding.ASCII.GetByteCount("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), framed.Length);
        Assert.Equal(200, framed.Status);
        Assert.False(framed.ConnectionClose);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")]
    [InlineData("HTTP/1.1 404 Not Found\r\ncontent-length:  \t12\t\r\nServer: test\r\n\r\nhello, world")]
    [InlineData(ChunkedHead + "5\r\nhello\r\n0\r\n\r\n")]
    [InlineData(ChunkedHead + "5;name=value;other\r\nhello\r\nA\r\n0123456789\r\n0;last\r\n\r\n")]
    [InlineData(ChunkedHead + "b \t;ext\r\nhello world\r\n0\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n")]
    public void EveryShorterPrefix_NeedsMoreData_AndTheWholeIsComplete(string response)
    {
        for (var length = 0; length < response.Length; length++)
        {
            Assert.True(Frame(response[..length]).Outcome == Outcome.NeedMoreData, $"prefix of {length} bytes: {Frame(response[..length]).Outcome}");
        }
        var whole = Frame(response);
        Assert.Equal(Outcome.Complete, whole.Outcome);
        Assert.Equal(response.Length, whole.Length);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")]
    [InlineData(ChunkedHead + "5;ext\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n")]
    public void BytesAfterTheResponse_AreLeftForTheNext(string response)
    {
        var framed = Frame(response + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        Assert.Equal(Outcome.Complete, framed.Outcome);
        Assert.Equal(response.Length, framed.Length);
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    [InlineData(101)]
    public void StatusWithoutBody_EndsAtTheHead_WhateverItsContentLength(int status)
    {
        var head = $"HTTP/1.1 {status} X\r\nContent-Length: 100\r\n\r\n";

        var framed = Frame(head + "next");

        Assert.Equal(Outcome.Complete, framed.Outcome);
        Assert.Equal(head.Length, framed.Length);
        Assert.Equal(status, framed.Status);
    }

    [Theory]
    [InlineData("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", 500)]
    [InlineData("HTTP/1.1 201\r\nContent-Length: 0\r\n\r\n", 201)]
    [InlineData("HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n", 503)]
    public void StatusCode_IsReported(string response, int status)
    {
        var framed = Frame(response);

        Assert.Equal(Outcome.Complete, framed.Outcome);
        Assert.Equal(status, framed.Status);
    }

    [Theory]
    [InlineData("HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 20\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 +20 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1_200 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("garbage\r\n\r\n")]
    public void MalformedStatusLine_IsMalformed(string response) =>
        Assert.Equal(Outcome.Malformed, Frame(response).Outcome);

    [Theory]
    [InlineData("Content-Length: abc")]
    [InlineData("Content-Length: 12abc")]
    [InlineData("Content-Length: 1 2")]
    [InlineData("Content-Length: -5")]
    [InlineData("Content-Length:")]
    [InlineData("Content-Length: 99999999999999999999999")]
    public void BadContentLength_IsMalformed(string field) =>
        Assert.Equal(Outcome.Malformed, Frame($"HTTP/1.1 200 OK\r\n{field}\r\n\r\nhello").Outcome);

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nServer: test\r\n\r\nhello")]
    [InlineData("HTTP/1.1 200 OK\r\n\r\nhello")]
    public void BodyDelimitedByClose_IsMalformed(string response) =>
        Assert.Equal(Outcome.Malformed, Frame(response).Outcome);

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    public void HeaderTheClassDoesNotRead_IsMalformed(string response) =>
        Assert.Equal(Outcome.Malformed, Frame(response).Outcome);

    [Theory]
    [InlineData("zz\r\nhello\r\n0\r\n\r\n")]
    [InlineData("\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5garbage\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5 5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhelloXX0\r\n\r\n")]
    [InlineData("4\r\nhello\r\n0\r\n\r\n")]
    [InlineData("ffffffffffffffff\r\nX0\r\n\r\n")]
    [InlineData("8000000000000001\r\nX0\r\n\r\n")]
    [InlineData("7fffffffffffffff\r\nX0\r\n\r\n")]
    public void BadChunkFraming_IsMalformed(string body) =>
        Assert.Equal(Outcome.Malformed, Frame(ChunkedHead + body).Outcome);

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nhello")]
    public void BodyLargerThanAnyBuffer_NeedsMoreData(string response) =>
        // The caller's full buffer ends it, as it would any response too large for the loader.
        Assert.Equal(Outcome.NeedMoreData, Frame(response).Outcome);

    [Fact]
    public void TransferEncodingChunked_WinsOverContentLength()
    {
        var response = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

        var framed = Frame(response);

        Assert.Equal(Outcome.Complete, framed.Outcome);
        Assert.Equal(response.Length, framed.Length);
    }

    [Fact]
    public void HeadWithoutEndPast64KiB_IsMalformed()
    {
        var head = "HTTP/1.1 200 OK\r\nX-Long: " + new string('a', 64 * 1024);

        Assert.Equal(Outcome.Malformed, Frame(head).Outcome);
    }

    [Fact]
    public void Http10Response_ClosesTheConnection()
    {
        var framed = Frame("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");

        Assert.Equal(Outcome.Complete, framed.Outcome);
        Assert.True(framed.ConnectionClose);
    }

    [Theory]
    [InlineData("Connection: close", true)]
    [InlineData("connection:Close", true)]
    [InlineData("CONNECTION: \tCLOSE\t", true)]
    [InlineData("Connection: keep-alive", false)]
    [InlineData("X-Connection: close", false)]
    [InlineData("Server: close", false)]
    public void ConnectionClose_IsDetected(string field, bool close)
    {
        var framed = Frame($"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n{field}\r\nServer: test\r\n\r\n");

        Assert.Equal(Outcome.Complete, framed.Outcome);
        Assert.Equal(close, framed.ConnectionClose);
    }

    [Fact]
    public void ConnectionClose_AsTheLastField_IsDetected() =>
        Assert.True(Frame("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").ConnectionClose);

    private static Framed Frame(string text)
    {
        var outcome = TryFrame(Encoding.ASCII.GetBytes(text), out var length, out var status, out var close);
        return new Framed(outcome, length, status, close);
    }

    private sealed record Framed(Outcome Outcome, int Length, int Status, bool ConnectionClose);
}
