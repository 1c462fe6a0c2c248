using System.Net;
using System.Net.Sockets;
using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>A throw-away redis-server on loopback, no persistence, on the loader's CPU.</summary>
public sealed class RedisService : IDisposable
{
    private readonly ChildProcess _process;

    private RedisService(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Pid;

    public static RedisService Start(string folder)
    {
        var port = FreePort.Next();
        var process = ChildProcess.Start("redis", 0, "redis-server",
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", folder], folder);
        var service = new RedisService(process, port);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                service.MeasureRoundTrips(1);
                return service;
            }
            catch (SocketException)
            {
                Thread.Sleep(20);
            }
        }
        service.Dispose();
        throw new InvalidOperationException("redis-server did not answer PING: " + process.Tail());
    }

    /// <summary>The physical floor of a Redis check: PING round trips on one loopback connection, one at a time.</summary>
    public LatencySummary MeasureRoundTrips(int samples)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, Port));
        var recorder = new LatencyRecorder();
        var ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();
        var reply = new byte[64];
        for (var i = 0; i < samples; i++)
        {
            var start = MonotonicClock.NowNs;
            socket.Send(ping);
            var received = 0;
            // "+PONG\r\n" is seven bytes (RESP simple string).
            while (received < 7)
            {
                var read = socket.Receive(reply, received, reply.Length - received, SocketFlags.None);
                if (read == 0)
                {
                    throw new SocketException((int)SocketError.ConnectionReset);
                }
                received += read;
            }
            recorder.Record(MonotonicClock.NowNs - start);
        }
        return recorder.Summarize();
    }

    public void Dispose() => _process.Dispose();
}
