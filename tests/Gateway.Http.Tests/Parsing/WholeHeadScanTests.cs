using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>
/// A head in one span is first tried by the scanner's vectorized pass; in single-octet segments it always goes line
/// by line. The two must agree on every input: status, rejection and length, for requests and responses, with the
/// line ends, bare LFs and empty lines falling on every side of the sixteen-octet chunks.
/// </summary>
public class WholeHeadScanTests
{
    [Fact]
    public void RandomHeads_WholeAndSegmented_SameVerdict()
    {
        var random = new Random(20261207);
        for (int i = 0; i < 4000; i++)
        {
            byte[] head = RandomHead(random);
            AssertSameVerdict(head, RequestVector.DefaultLimits);
        }
    }

    [Fact]
    public void CleanHeadsOfEveryLength_Accepted_WithTheirLength()
    {
        for (int value = 0; value < 70; value++)
        {
            string text = $"GET / HTTP/1.1\r\nHost: a.test\r\nX-A: {new string('v', value)}\r\nX-B: w\r\n\r\n";
            byte[] bytes = Encoding.ASCII.GetBytes(text + "next");
            Assert.Equal(text.Length, AssertSameVerdict(bytes, RequestVector.DefaultLimits).Request.Consumed);
        }
    }

    /// <summary>The vectorized pass itself takes the usual heads, wherever their ends fall against its chunks.</summary>
    [Fact]
    public void FastPath_TakesCleanHeads_AndLeavesTheRestToTheLineScan()
    {
        for (int value = 0; value < 70; value++)
        {
            string request = $"GET / HTTP/1.1\r\nHost: a.test\r\nX-A: {new string('v', value)}\r\n\r\n";
            Assert.True(WholeHeadScan.TryFind(Encoding.ASCII.GetBytes(request + "next"), 8192, 100, out int length));
            Assert.Equal(request.Length, length);
            string response = $"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: {value}\r\n\r\n";
            Assert.True(WholeHeadScan.TryFind(Encoding.ASCII.GetBytes(response), 8192, 100, out length));
            Assert.Equal(response.Length, length);
        }
        Assert.False(WholeHeadScan.TryFind("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"u8, 8192, 100, out _));
        Assert.False(WholeHeadScan.TryFind("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"u8, 8192, 100, out _));
        Assert.False(WholeHeadScan.TryFind("GET / HTTP/1.1\r\nHost: a\r\nX-Long-Field: more than sixteen\r\n"u8, 8192, 100, out _));
        Assert.False(WholeHeadScan.TryFind("GET / HTTP/1.1\r\nHost: a\r\n\r\n"u8, 8192, 0, out _));
        Assert.False(WholeHeadScan.TryFind("GET / HTTP/1.1\r\nHost: a\r\n\r\n"u8, 20, 100, out _));
    }

    [Fact]
    public void LimitsAtTheFastPathsEdge_SameVerdict()
    {
        var limits = new HttpLimits { MaxHeaderBytes = 64, MaxHeaderCount = 3, MaxRequestLineBytes = 40 };
        for (int value = 0; value < 60; value++)
        {
            AssertSameVerdict(Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: a.test\r\nX-A: {new string('v', value)}\r\n\r\n"), limits);
            AssertSameVerdict(Encoding.ASCII.GetBytes($"GET /{new string('p', value)} HTTP/1.1\r\nHost: a\r\n\r\n"), limits);
        }
        AssertSameVerdict(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), limits);
        AssertSameVerdict(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"), limits);
    }

    /// <summary>Lines of token octets, separators, spaces, CR and LF, mostly well formed.</summary>
    private static byte[] RandomHead(Random random)
    {
        var bytes = new List<byte>();
        if (random.Next(20) == 0)
        {
            bytes.AddRange("\r\n"u8.ToArray());
        }
        bytes.AddRange(random.Next(2) == 0 ? "GET / HTTP/1.1"u8.ToArray() : "HTTP/1.1 200 OK"u8.ToArray());
        int lines = random.Next(0, 12);
        for (int line = 0; line <= lines; line++)
        {
            bytes.AddRange(Terminator(random));
            int length = line == lines ? 0 : random.Next(0, 40);
            for (int k = 0; k < length; k++)
            {
                bytes.Add(random.Next(30) switch
                {
                    0 => (byte)'\r',
                    1 => (byte)'\n',
                    2 => (byte)' ',
                    3 => (byte)':',
                    _ => (byte)('a' + random.Next(26)),
                });
            }
        }
        bytes.AddRange(Terminator(random));
        if (random.Next(4) == 0)
        {
            bytes.RemoveRange(random.Next(bytes.Count), 1);
        }
        bytes.AddRange("body"u8.ToArray());
        return [.. bytes];
    }

    private static byte[] Terminator(Random random) => random.Next(25) switch
    {
        0 => "\n"u8.ToArray(),
        1 => "\r"u8.ToArray(),
        2 => "\r\r\n"u8.ToArray(),
        _ => "\r\n"u8.ToArray(),
    };

    private static (RequestOutcome Request, ParseStatus Response) AssertSameVerdict(byte[] bytes, HttpLimits limits)
    {
        RequestOutcome whole = RequestVector.ParseOnce(ByteSegments.Whole(bytes), limits);
        RequestOutcome segmented = RequestVector.ParseOnce(ByteSegments.OnePerByte(bytes), limits);
        string shown = Encoding.Latin1.GetString(bytes).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        Assert.True((whole.Status, whole.Rejection, whole.Consumed) == (segmented.Status, segmented.Rejection, segmented.Consumed),
            $"request {shown}: whole {whole.Status} {whole.Rejection} {whole.Consumed}, segmented {segmented.Status} {segmented.Rejection} {segmented.Consumed}");

        (ParseStatus status, ResponseRejection rejection, long consumed) wholeResponse = ParseResponse(ByteSegments.Whole(bytes), limits);
        (ParseStatus status, ResponseRejection rejection, long consumed) segmentedResponse = ParseResponse(ByteSegments.OnePerByte(bytes), limits);
        Assert.True(wholeResponse == segmentedResponse, $"response {shown}: whole {wholeResponse}, segmented {segmentedResponse}");
        return (whole, wholeResponse.status);
    }

    private static (ParseStatus, ResponseRejection, long) ParseResponse(ReadOnlySequence<byte> sequence, HttpLimits limits)
    {
        var reader = new SequenceReader<byte>(sequence);
        ParseStatus status = ResponseHeadParser.TryParse(ref reader, limits, requestWasHead: false, new HttpResponseHead(), out ResponseRejection rejection);
        return (status, rejection, reader.Consumed);
    }
}
