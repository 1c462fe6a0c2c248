using System.Runtime.InteropServices;

namespace Gateway.Perf.EpollRelay;

/// <summary>The libc calls and constants the relay uses, as on x86-64 Linux (where struct epoll_event is packed).</summary>
internal static unsafe partial class Linux
{
    public const int AF_INET = 2;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOL_SOCKET = 1;
    public const int SO_REUSEADDR = 2;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int EPOLL_CTL_ADD = 1;
    public const uint EPOLLIN = 1;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int EAGAIN = 11;

    /// <summary>struct epoll_event, which the kernel packs on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public long Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockAddrIn
    {
        public ushort Family;
        public ushort Port;
        public uint Address;
        public ulong Zero;
    }

    private const string Libc = "libc.so.6";

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int bind(int fd, SockAddrIn* address, int length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int accept4(int fd, void* address, void* length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int connect(int fd, SockAddrIn* address, int length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_ctl(int epoll, int operation, int fd, EpollEvent* watched);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_wait(int epoll, EpollEvent* events, int max, int timeout);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial long recv(int fd, byte* buffer, long length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial long send(int fd, byte* buffer, long length, int flags);
}
