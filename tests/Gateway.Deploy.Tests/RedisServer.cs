using System.Net;
using System.Net.Sockets;

namespace Gateway.Deploy.Tests;

/// <summary>A real redis-server on a loopback port that demands a password, stopped by its PID.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly ChildProcess _process;

    private RedisServer(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<RedisServer> StartAsync(string password)
    {
        int port = LoopbackPorts.Free();
        var process = ChildProcess.Start("redis-server",
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--requirepass", password,
             "--save", "", "--appendonly", "no", "--daemonize", "no"]);
        var server = new RedisServer(process, port);
        try
        {
            await LoopbackPorts.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(20), () => process.Output);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public void Dispose() => _process.Dispose();
}

/// <summary>Loopback port helpers shared by the servers these tests start.</summary>
internal static class LoopbackPorts
{
    /// <summary>A port the kernel just handed out and released; the caller binds it soon after.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitUntilListeningAsync(int port, TimeSpan timeout, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            catch (SocketException e)
            {
                throw new TimeoutException($"Nothing listened on 127.0.0.1:{port} within {timeout}: {e.Message}\n{diagnostics()}");
            }
        }
    }
}
