using System.Net;
using System.Net.Sockets;

namespace Gateway.Http.Transport;

/// <summary>A bound, listening TCP socket; a port in use or an address not on this host is a start-up problem with a name.</summary>
public static class ListeningSocket
{
    /// <summary>
    /// Binds and listens; throws <see cref="IOException"/> naming <paramref name="owner"/> and the endpoint when the
    /// system refuses (the caller reports it and does not start).
    /// </summary>
    public static Socket Open(IPAddress address, int port, int backlog, string owner)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(backlog);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"{owner}: cannot listen on {new IPEndPoint(address, port)}: {e.Message.ToLowerInvariant()}", e);
        }
    }
}
