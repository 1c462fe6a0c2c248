using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Backends;
using Gateway.Backends.Redis;

namespace Gateway.Perf.Micro;

/// <summary>
/// RESP on the rate-limit path: parsing the plugin's EVALSHA command strictly before it is handed to the client.
/// </summary>
public class RespBenchmarks
{
    // What rate_limit sends: EVALSHA <sha1> 1 <key> <limit> <window ms>.
    private static readonly byte[] Command = Encoding.ASCII.GetBytes(
        "*6\r\n$7\r\nEVALSHA\r\n$40\r\n0123456789abcdef0123456789abcdef01234567\r\n$1\r\n1\r\n" +
        "$15\r\nrl:m:bench-user\r\n$10\r\n1000000000\r\n$5\r\n60000\r\n");

    [GlobalSetup]
    public void Setup()
    {
        if (RespCommand.Parse(Command) is null)
        {
            throw new InvalidOperationException("the benchmark command is not one RESP frame");
        }
    }

    [Benchmark]
    public int FrameCommand() => RespCommand.Parse(Command)?.Count ?? -1;
}
