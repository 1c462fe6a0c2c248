using System.Net;
using System.Net.Sockets;

namespace Gateway.Testing;

/// <summary>
/// A loopback port bound without listening: connections to it are refused, as by a server that is down, and while it is
/// held the kernel hands it to no bind to port 0, which is how every test picks its servers' ports. A port only probed
/// free and released could meanwhile become another test's server, which then answers in its place.
/// </summary>
public sealed class ClosedPort : IDisposable
{
    private readonly Socket _socket;

    private ClosedPort(Socket socket)
    {
        _socket = socket;
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary>A port the kernel picks.</summary>
    public static ClosedPort Any() => TryHold(0) ?? throw new InvalidOperationException("no loopback port could be bound");

    /// <summary>The port a stopped server leaves; null when something else holds it already.</summary>
    public static ClosedPort? TryHold(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // A stopped server's connections may linger in TIME_WAIT on its port; they do not keep it from being held.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return new ClosedPort(socket);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Lets the port go, for a server to start on it.</summary>
    public void Dispose() => _socket.Dispose();
}
