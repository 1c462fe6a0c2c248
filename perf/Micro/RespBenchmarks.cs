using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Backends;
using StackExchange.Redis;

namespace Gateway.Perf.Micro;

/// <summary>
/// RESP on the rate-limit path: checking the frame of the plugin's EVALSHA command (ABI §10.3)
/// and re-encoding Redis's reply as the RESP2 bytes handed back to the guest.
/// </summary>
public class RespBenchmarks
{
    private delegate bool TryReadFrame(ReadOnlySpan<byte> resp, out int count, out string? error);

    private delegate byte[] Encode(RedisResult result);

    // What rate_limit sends: EVALSHA <sha1> 1 <key> <limit> <window ms>.
    private static readonly byte[] Command = Encoding.ASCII.GetBytes(
        "*6\r\n$7\r\nEVALSHA\r\n$40\r\n0123456789abcdef0123456789abcdef01234567\r\n$1\r\n1\r\n" +
        "$15\r\nrl:m:bench-user\r\n$10\r\n1000000000\r\n$5\r\n60000\r\n");

    private TryReadFrame _frame = null!;
    private Encode _encode = null!;
    private RedisResult _reply = null!;

    [GlobalSetup]
    public void Setup()
    {
        var backends = typeof(BackendRegistry).Assembly;
        _frame = InternalEntryPoint.Bind<TryReadFrame>(backends, "Gateway.Backends.RespCommand", "TryReadFrame");
        _encode = InternalEntryPoint.Bind<Encode>(backends, "Gateway.Backends.RespReplyWriter", "Encode");
        // The script's reply: allowed flag, remaining, retry-after ms.
        _reply = RedisResult.Create([RedisResult.Create((RedisValue)1), RedisResult.Create((RedisValue)999_999_999), RedisResult.Create((RedisValue)0)]);
        if (!_frame(Command, out _, out var error))
        {
            throw new InvalidOperationException("the benchmark command is not one RESP frame: " + error);
        }
    }

    [Benchmark]
    public int FrameCommand() => _frame(Command, out var count, out _) ? count : -1;

    [Benchmark]
    public int EncodeReply() => _encode(_reply).Length;
}
