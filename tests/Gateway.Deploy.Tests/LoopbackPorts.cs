using System.Net;
using System.Net.Sockets;

namespace Gateway.Deploy.Tests;

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
