using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Proxy.Forwarding;

namespace Gateway.Proxy.Tests;

public sealed class HeadWriterTests
{
    [Fact]
    public void WriteRequest_RebuildsStartLineHostAndOneFramingField()
    {
        var head = new HttpRequestHead { Method = "POST", Target = "/a?b=c", Authority = "api.test:8080", MinorVersion = 0 };
        head.Headers.Add("x-one", "caf\u00e9");
        var output = new ArrayBufferWriter<byte>();
        HeadWriter.WriteRequest(output, head, BodyFraming.Chunked, 0);
        Assert.Equal("POST /a?b=c HTTP/1.1\r\nhost: api.test:8080\r\nx-one: caf\u00e9\r\ntransfer-encoding: chunked\r\n\r\n",
            Encoding.Latin1.GetString(output.WrittenSpan));
    }

    [Fact]
    public void FieldValues_OfEveryLength_AreWrittenAsTheLatin1EncoderWritesThem()
    {
        // Short parts are narrowed by a loop or two overlapping vectors, longer ones by the encoder: every length, with
        // Latin-1 characters at both ends, and with one beyond Latin-1 (the encoder writes '?') at each position.
        const string Alphabet = "\u00ffabc\u00e9-0123456789~xyz";
        for (int length = 1; length <= 40; length++)
        {
            string value = string.Concat(Enumerable.Range(0, length).Select(i => Alphabet[i % Alphabet.Length]));
            AssertWritten(value);
            for (int at = 0; at < length; at++)
            {
                AssertWritten(string.Concat(value.AsSpan(0, at), "\u20ac", value.AsSpan(at + 1)));
            }
        }

        static void AssertWritten(string value)
        {
            var head = new HttpResponseHead { StatusCode = 200 };
            head.Headers.Add("x-v", value);
            var output = new ArrayBufferWriter<byte>();
            HeadWriter.WriteResponse(output, head, BodyFraming.None, -1, close: false);
            byte[] expected = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nx-v: " + value + "\r\n\r\n");
            Assert.Equal(expected, output.WrittenSpan.ToArray());
        }
    }

    [Fact]
    public void WriteResponse_UsesStandardReasonWhenUpstreamGaveNone()
    {
        var head = new HttpResponseHead { StatusCode = 404 };
        var output = new ArrayBufferWriter<byte>();
        HeadWriter.WriteResponse(output, head, BodyFraming.ContentLength, 12, close: true);
        Assert.Equal("HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\nconnection: close\r\n\r\n", Encoding.Latin1.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteChunk_FramesDataAndLastChunkCarriesTrailers()
    {
        var output = new ArrayBufferWriter<byte>();
        HeadWriter.WriteChunk(output, new ReadOnlySequence<byte>(new byte[26]));
        var trailers = new HeaderCollection();
        trailers.Add("x-sum", "1");
        HeadWriter.WriteLastChunk(output, trailers);
        string text = Encoding.Latin1.GetString(output.WrittenSpan);
        Assert.StartsWith("1a\r\n", text);
        Assert.EndsWith("\r\n0\r\nx-sum: 1\r\n\r\n", text);
    }

    [Fact]
    public void WriteError_HasOwnLengthAndNeverEchoesInput()
    {
        var output = new ArrayBufferWriter<byte>();
        LocalResponse.WriteError(output, 431, "header section too large", "id1", close: true);
        string text = Encoding.Latin1.GetString(output.WrittenSpan);
        int split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string body = text[(split + 4)..];
        Assert.Contains($"content-length: {body.Length}\r\n", text);
        Assert.Contains("connection: close", text);
        Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n", text);
    }
}
