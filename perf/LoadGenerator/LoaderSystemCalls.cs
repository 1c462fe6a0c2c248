using System.Runtime.InteropServices;

namespace Gateway.Perf.Load;

/// <summary>
/// The Linux calls the saturation loader makes itself: one epoll set and non-blocking sends and receives. Each returns
/// -1 with errno on failure (read through <see cref="Marshal.GetLastPInvokeError"/>).
/// </summary>
internal static unsafe partial class LoaderSystemCalls
{
    public const int EAGAIN = 11;
    public const int EINTR = 4;

    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;

    public const int MSG_NOSIGNAL = 0x4000;

    /// <summary>struct epoll_event: a 32-bit mask and a 64-bit word, packed on x86-64 (12 bytes), aligned elsewhere (16).</summary>
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
    public static partial int close(int fd);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);
}
