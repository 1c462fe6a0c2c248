using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Backends;

namespace Gateway.Perf.Micro;

/// <summary>
/// RESP on the rate-limit path: checking the frame of the plugin's EVALSHA command (ABI §10.3) and finding
/// where Redis's reply ends, which is all the gateway does to it before handing the bytes to the guest.
/// </summary>
public class RespBenchmarks
{
    // What rate_limit sends: EVALSHA <sha1> 1 <key> <limit> <window ms>.
    private static readonly byte[] Command = Encoding.ASCII.GetBytes(
        "*6\r\n$7\r\nEVALSHA\r\n$40\r\n0123456789abcdef0123456789abcdef01234567\r\n$1\r\n1\r\n" +
        "$15\r\nrl:m:bench-user\r\n$10\r\n1000000000\r\n$5\r\n60000\r\n");

    // The script's reply: allowed flag, remaining, retry-after ms.
    private static readonly byte[] Reply = Encoding.ASCII.GetBytes("*3\r\n:1\r\n:999999999\r\n:0\r\n");

    [GlobalSetup]
    public void Setup()
    {
        if (RespCommand.Parse(Command) is null)
        {
            throw new InvalidOperationException("the benchmark command is not one RESP frame");
        }
        var framer = new RespReplyFramer();
        if (framer.Next(Reply) != Reply.Length)
        {
            throw new InvalidOperationException("the benchmark reply is not one RESP2 reply");
        }
    }

    [Benchmark]
    public int FrameCommand() => RespCommand.Parse(Command)?.Count ?? -1;

    [Benchmark]
    public int FrameReply()
    {
        var framer = new RespReplyFramer();
        return framer.Next(Reply);
    }
}
