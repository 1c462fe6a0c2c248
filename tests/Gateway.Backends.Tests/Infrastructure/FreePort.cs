using System.Net;
using System.Net.Sockets;

namespace Gateway.Backends.Tests;

internal static class FreePort
{
    /// <summary>Binds port 0 on loopback and releases it, so a server process can take the port the kernel chose.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
