using System.Net;
using System.Net.Sockets;

namespace Gateway.Perf.Runner;

/// <summary>A loopback port nobody listens on, found by binding port 0 and letting it go.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
