using BenchmarkDotNet.Attributes;
using Gateway.Plugins.Runtime;

namespace Gateway.Perf.Micro;

/// <summary>
/// Serializing a request's header map into the proxy-wasm pair format (docs/proxy-wasm.md, 'Header maps'), as the host
/// does for proxy_get_header_map_pairs, into a buffer standing for guest memory.
/// </summary>
public class HeaderMapBenchmarks
{
    private delegate int SizeOf(IReadOnlyList<KeyValuePair<string, string>> pairs);

    private delegate void WritePairs(IReadOnlyList<KeyValuePair<string, string>> pairs, Span<byte> destination);

    private readonly byte[] _guestMemory = new byte[64 * 1024];
    private SizeOf _size = null!;
    private WritePairs _write = null!;

    [GlobalSetup]
    public void Setup()
    {
        var plugins = typeof(PluginOptions).Assembly;
        _size = InternalEntryPoint.Bind<SizeOf>(plugins, "Gateway.Plugins.Abi.HeaderPairs", "SerializedSize");
        _write = InternalEntryPoint.Bind<WritePairs>(plugins, "Gateway.Plugins.Abi.HeaderPairs", "Write");
    }

    [Benchmark]
    public int SerializeNinePairs()
    {
        var size = _size(HeaderSamples.Request);
        _write(HeaderSamples.Request, _guestMemory.AsSpan(0, size));
        return size;
    }
}
