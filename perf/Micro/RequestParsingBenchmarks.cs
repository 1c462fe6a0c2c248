using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Http;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Perf.Micro;

/// <summary>
/// The request head parser on a typical browser-like GET (9 fields), in one segment and split
/// across two (as a read that ends mid-head leaves it). The head object is reused, as the
/// connection loop reuses it: the steady state must allocate nothing.
/// </summary>
public class RequestParsingBenchmarks
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes(
        "GET /api/v1/orders/12345?expand=items HTTP/1.1\r\n" +
        "Host: api.example.com\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\n" +
        "Accept: application/json\r\n" +
        "Accept-Encoding: gzip, deflate, br\r\n" +
        "Accept-Language: en-US,en;q=0.5\r\n" +
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc\r\n" +
        "X-Request-Id: 7f1c1a52-2d2b-4f0e-9d8e-3b1e6a0c9f11\r\n" +
        "X-Api-Key: key-0\r\n" +
        "Connection: keep-alive\r\n\r\n");

    private readonly HttpLimits _limits = new();
    private readonly HttpRequestHead _head = new();
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _split;

    [GlobalSetup]
    public void Setup()
    {
        _single = new ReadOnlySequence<byte>(Request);
        _split = Segments.Split(Request, Request.Length / 2);
    }

    [Benchmark(Baseline = true)]
    public ParseStatus SingleSegment() => Parse(_single);

    [Benchmark]
    public ParseStatus TwoSegments() => Parse(_split);

    private ParseStatus Parse(ReadOnlySequence<byte> bytes)
    {
        _head.Reset();
        var reader = new SequenceReader<byte>(bytes);
        var status = RequestHeadParser.TryParse(ref reader, _limits, _head, out _);
        if (status != ParseStatus.Complete)
        {
            throw new InvalidOperationException("the benchmark request did not parse: " + status);
        }
        return status;
    }
}

/// <summary>Builds a two-segment sequence, as a pipe returns a head that arrived in two reads.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, int at)
    {
        var first = new Segments(bytes.AsMemory(0, at), 0);
        var second = new Segments(bytes.AsMemory(at), at);
        first.Next = second;
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }
}
