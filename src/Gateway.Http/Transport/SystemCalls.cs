using System.Runtime.InteropServices;

namespace Gateway.Http.Transport;

/// <summary>
/// The Linux calls a worker's event loop makes itself: epoll, an eventfd to wake it, and non-blocking socket I/O.
/// Every call returns -1 with errno on failure (read through <see cref="Marshal.GetLastPInvokeError"/>).
/// </summary>
internal static unsafe partial class SystemCalls
{
    public const int EAGAIN = 11;
    public const int EINTR = 4;

    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;

    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    public const int MSG_PEEK = 0x2;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;

    /// <summary>
    /// struct epoll_event is a 32-bit event mask and a 64-bit word; x86-64 packs it (12 bytes), other
    /// architectures align the word (16 bytes).
    /// </summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static readonly int EpollDataOffset = EpollEventSize - 8;

    private const string Libc = "libc";

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_ctl(int epoll, int operation, int fd, byte* epollEvent);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_wait(int epoll, byte* events, int max, int timeoutMs);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int eventfd(uint initial, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int close(int fd);

    public const int SOL_SOCKET = 1;
    public const int SO_ERROR = 4;

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, int* value, int* length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);
}
