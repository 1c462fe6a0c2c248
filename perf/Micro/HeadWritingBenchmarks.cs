using System.Buffers;
using BenchmarkDotNet.Attributes;
using Gateway.Http.Messages;
using Gateway.Proxy.Forwarding;

namespace Gateway.Perf.Micro;

/// <summary>Writing the upstream request head (the other half of every proxied request), into a reused buffer.</summary>
public class HeadWritingBenchmarks
{
    private readonly HttpRequestHead _head = new();
    private readonly ArrayBufferWriter<byte> _output = new(4096);

    [GlobalSetup]
    public void Setup()
    {
        _head.Method = "GET";
        _head.Target = "/api/v1/orders/12345?expand=items";
        _head.Authority = "api.example.com";
        foreach (var (name, value) in HeaderSamples.Request)
        {
            _head.Headers.Add(name, value);
        }
    }

    [Benchmark]
    public int WriteRequestHead()
    {
        _output.ResetWrittenCount();
        HeadWriter.WriteRequest(_output, _head, BodyFraming.None, 0);
        return _output.WrittenCount;
    }
}

internal static class HeaderSamples
{
    public static readonly KeyValuePair<string, string>[] Request =
    [
        new("host", "api.example.com"),
        new("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"),
        new("accept", "application/json"),
        new("accept-encoding", "gzip, deflate, br"),
        new("accept-language", "en-US,en;q=0.5"),
        new("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc"),
        new("x-request-id", "7f1c1a52-2d2b-4f0e-9d8e-3b1e6a0c9f11"),
        new("x-api-key", "key-0"),
        new("x-forwarded-for", "10.1.2.3"),
    ];
}
