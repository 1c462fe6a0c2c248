using System.Net;
using System.Runtime.InteropServices;

namespace Gateway.Perf.EpollRelay;

/// <summary>The few socket steps the relay takes, each one or two system calls on 127.0.0.1.</summary>
internal static unsafe class Sockets
{
    public static int Listen(int port)
    {
        int fd = Linux.socket(Linux.AF_INET, Linux.SOCK_STREAM | Linux.SOCK_NONBLOCK, 0);
        int on = 1;
        Linux.setsockopt(fd, Linux.SOL_SOCKET, Linux.SO_REUSEADDR, &on, sizeof(int));
        Linux.SockAddrIn address = Loopback(port);
        return Linux.bind(fd, &address, sizeof(Linux.SockAddrIn)) == 0 && Linux.listen(fd, 4096) == 0 ? fd : -1;
    }

    /// <summary>A blocking connect (loopback answers at once), then non-blocking like every other socket here.</summary>
    public static int Connect(int port)
    {
        int fd = Linux.socket(Linux.AF_INET, Linux.SOCK_STREAM, 0);
        Linux.SockAddrIn address = Loopback(port);
        if (Linux.connect(fd, &address, sizeof(Linux.SockAddrIn)) != 0)
        {
            Linux.close(fd);
            return -1;
        }
        Linux.fcntl(fd, Linux.F_SETFL, Linux.fcntl(fd, Linux.F_GETFL, 0) | Linux.SOCK_NONBLOCK);
        NoDelay(fd);
        return fd;
    }

    public static void NoDelay(int fd)
    {
        int on = 1;
        Linux.setsockopt(fd, Linux.IPPROTO_TCP, Linux.TCP_NODELAY, &on, sizeof(int));
    }

    public static void Watch(int epoll, int fd)
    {
        var watched = new Linux.EpollEvent { Events = Linux.EPOLLIN, Data = fd };
        Linux.epoll_ctl(epoll, Linux.EPOLL_CTL_ADD, fd, &watched);
    }

    /// <summary>Sends all of <paramref name="length"/> bytes, retrying while the socket is full; false if it failed.</summary>
    public static bool SendAll(int fd, byte* data, long length)
    {
        while (length > 0)
        {
            long sent = Linux.send(fd, data, length, Linux.MSG_NOSIGNAL);
            if (sent < 0)
            {
                if (Marshal.GetLastPInvokeError() == Linux.EAGAIN)
                {
                    continue;
                }
                return false;
            }
            data += sent;
            length -= sent;
        }
        return true;
    }

    private static Linux.SockAddrIn Loopback(int port) => new()
    {
        Family = Linux.AF_INET,
        Port = (ushort)IPAddress.HostToNetworkOrder((short)port),
        Address = (uint)IPAddress.HostToNetworkOrder(0x7F000001),
    };
}
