using System.Buffers;
using System.Text;
using Gateway.Http;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Proxy.Forwarding;

namespace Gateway.Proxy.Tests;

/// <summary>
/// A response head parsed for forwarding keeps its fields as the lines the gateway writes. Whatever the upstream sent,
/// the client must get the very bytes the same head parsed as strings, cleaned and written, would have given it, and a
/// reader of the fields the very strings.
/// </summary>
public sealed class ForwardedResponseHeadTests
{
    public static TheoryData<string, bool> Heads => new()
    {
        // (the field section, whether it can stay as lines)
        { "Server: nginx\r\nDate: Sun, 06 Dec 2026 18:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n", true },
        { "X-Mixed-CASE:  spaced value \t\r\nx-empty:\r\nX-Obs: caf\u00e9 \u00ff\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 0\r\n", true },
        { "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\nTrailer: x-sum\r\nProxy-Authenticate: Basic\r\nHTTP2-Settings: AAA\r\nX-Kept: 1\r\nContent-Length: 0\r\n", true },
        { "Connection: close, Upgrade\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n", true },
        { "X-Private: secret\r\nConnection: keep-alive, X-Private\r\nX-Public: 1\r\nContent-Length: 0\r\n", false },
        { "Connection: content-length, via\r\nVia: 1.1 up\r\nContent-Length: 0\r\n", false },
        { "X-Big: " + new string('v', 3000) + "\r\nX-Bigger: " + new string('w', 3000) + "\r\nX-After: 1\r\nContent-Length: 0\r\n", false },
        { "Content-Length: 0\r\n", true },
    };

    [Theory]
    [MemberData(nameof(Heads))]
    public void WrittenHead_IsTheOneTheStringsGive(string fields, bool staysAsLines)
    {
        byte[] bytes = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\n" + fields + "\r\n");
        HttpResponseHead asStrings = ParseAndClean(bytes, forwarding: false);
        HttpResponseHead asLines = ParseAndClean(bytes, forwarding: true);

        Assert.Equal(staysAsLines, asLines.HoldsFieldLines);
        Assert.Equal(Written(asStrings), Written(asLines));
        Assert.True(asLines.HoldsFieldLines == staysAsLines, "writing a head must not read its fields as strings");
        Assert.Equal(asStrings.KeepAlive, asLines.KeepAlive);
        Assert.Equal(asStrings.Framing, asLines.Framing);
    }

    [Theory]
    [MemberData(nameof(Heads))]
    public void ReadFields_AreTheStringsTheParserGives(string fields, bool staysAsLines)
    {
        _ = staysAsLines;
        byte[] bytes = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\n" + fields + "\r\n");
        HttpResponseHead asStrings = ParseAndClean(bytes, forwarding: false);
        HttpResponseHead asLines = ParseAndClean(bytes, forwarding: true);

        Assert.Equal(Fields(asStrings), Fields(asLines));
        Assert.False(asLines.HoldsFieldLines);
        Assert.Equal(Written(asStrings), Written(asLines));
    }

    [Theory]
    [MemberData(nameof(Heads))]
    public void CountedAndAddedFields_AreTheStringsOnes_WithoutReadingThem(string fields, bool staysAsLines)
    {
        // What a plugin that only counts the fields and adds one (proxy_add_header_map_value) does to a head.
        byte[] bytes = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\n" + fields + "\r\n");
        HttpResponseHead asStrings = ParseAndClean(bytes, forwarding: false);
        HttpResponseHead asLines = ParseAndClean(bytes, forwarding: true);

        Assert.Equal(asStrings.FieldCount, asLines.FieldCount);
        asStrings.Headers.Add("x-added", "a value \u00e9");
        Assert.Equal(staysAsLines, asLines.TryAddFieldLine("x-added", "a value \u00e9"));
        if (!staysAsLines)
        {
            asLines.Headers.Add("x-added", "a value \u00e9");
        }
        Assert.Equal(staysAsLines, asLines.HoldsFieldLines);
        Assert.Equal(asStrings.FieldCount, asLines.FieldCount);
        Assert.Equal(Written(asStrings), Written(asLines));
        Assert.Equal(Fields(asStrings), Fields(asLines));
    }

    [Fact]
    public void Names_OfEveryLengthAndTokenCharacter_AreLowerCasedAsStrings()
    {
        // Every length to 40 and every token character: the lines must lower-case names as the string path does.
        const string TokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        for (int length = 1; length <= 40; length++)
        {
            for (int shift = 0; shift < TokenChars.Length; shift += 7)
            {
                string name = string.Concat(Enumerable.Range(0, length).Select(i => TokenChars[(i + shift) % TokenChars.Length]));
                byte[] bytes = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\n" + name + ": v\r\nContent-Length: 0\r\n\r\n");
                HttpResponseHead asLines = ParseAndClean(bytes, forwarding: true);
                Assert.True(asLines.HoldsFieldLines);
                Assert.Equal(Written(ParseAndClean(bytes, forwarding: false)), Written(asLines));
            }
        }
    }

    [Fact]
    public void ParsingAgain_ForgetsTheLastHeadsLines()
    {
        var head = new HttpResponseHead();
        Parse(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nX-First: 1\r\nContent-Length: 0\r\n\r\n"), head, forwarding: true);
        Parse(Encoding.Latin1.GetBytes("HTTP/1.1 204 No Content\r\nX-Second: 2\r\n\r\n"), head, forwarding: true);
        Assert.Equal([("x-second", "2")], Fields(head));
    }

    private static HttpResponseHead ParseAndClean(byte[] bytes, bool forwarding)
    {
        var head = new HttpResponseHead();
        Parse(bytes, head, forwarding);
        ForwardingHeaders.CleanResponse(head);
        return head;
    }

    private static void Parse(byte[] bytes, HttpResponseHead head, bool forwarding)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        ParseStatus status = ResponseHeadParser.TryParse(ref reader, new HttpLimits(), false, forwarding, head, out ResponseRejection rejection);
        Assert.True(status == ParseStatus.Complete, $"{status} {rejection}");
    }

    private static string Written(HttpResponseHead head)
    {
        var output = new ArrayBufferWriter<byte>();
        HeadWriter.WriteResponse(output, head, head.Framing, head.ContentLength, close: false);
        return Encoding.Latin1.GetString(output.WrittenSpan);
    }

    private static List<(string, string)> Fields(HttpResponseHead head) =>
        Enumerable.Range(0, head.Headers.Count).Select(i => (head.Headers[i].Key, head.Headers[i].Value)).ToList();
}
