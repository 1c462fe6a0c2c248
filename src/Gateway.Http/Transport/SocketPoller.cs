using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Gateway.Http.Transport.SystemCalls;

namespace Gateway.Http.Transport;

/// <summary>
/// A worker's epoll instance: the sockets it watches and the eventfd that wakes it. Sockets are watched
/// edge-triggered for every event once, when they join, so no per-operation system call changes interest.
/// Only the worker's own thread adds, removes and polls; <see cref="Wake"/> is the one call from other threads.
/// </summary>
internal sealed unsafe class SocketPoller : IDisposable
{
    private const int MaxEvents = 256;

    /// <summary>The key of the eventfd; a socket's key is its slot and the slot's generation, never this.</summary>
    private const ulong WakeKey = ulong.MaxValue;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly byte* _events;
    // Keys carry a generation, so an event already fetched for a socket that left meanwhile (its fd maybe reused)
    // finds an empty or newer slot and is dropped.
    private readonly List<WorkerSocketStream?> _sockets = [];
    private readonly List<uint> _generations = [];
    private readonly Stack<int> _free = new();
    private readonly Lock _closing = new();
    private int _wakePending;
    private bool _closed;

    public SocketPoller()
    {
        _epoll = Check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
        _wake = Check(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");
        Control(EPOLL_CTL_ADD, _wake, EPOLLIN | EPOLLET, WakeKey);
        _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollEventSize));
    }

    /// <summary>Starts watching <paramref name="fd"/> for <paramref name="socket"/>; returns the key to remove it by.</summary>
    public ulong Add(int fd, WorkerSocketStream socket)
    {
        int slot;
        if (_free.TryPop(out slot))
        {
            _sockets[slot] = socket;
        }
        else
        {
            slot = _sockets.Count;
            _sockets.Add(socket);
            _generations.Add(0);
        }
        ulong key = ((ulong)_generations[slot] << 32) | (uint)slot;
        Control(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, key);
        return key;
    }

    /// <summary>Stops watching; events for the key that were already fetched are dropped.</summary>
    public void Remove(int fd, ulong key)
    {
        // Failure means the fd is already gone from the set; the slot is freed all the same.
        _ = epoll_ctl(_epoll, EPOLL_CTL_DEL, fd, null);
        int slot = (int)(uint)key;
        _sockets[slot] = null;
        _generations[slot]++;
        _free.Push(slot);
    }

    /// <summary>Wakes the worker out of <see cref="Poll"/>; one write however many callers.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            // A late post from another thread while the worker stops must not write to a closed (maybe reused) fd.
            lock (_closing)
            {
                if (!_closed)
                {
                    ulong one = 1;
                    _ = write(_wake, (byte*)&one, sizeof(ulong));
                }
            }
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> (-1: until an event) and returns how many it fetched.</summary>
    public int Wait(int timeoutMs) => epoll_wait(_epoll, _events, MaxEvents, timeoutMs);

    /// <summary>
    /// Hands each socket the events <see cref="Wait"/> fetched. The sockets complete their operations right here, so a
    /// completion reaches its connection on this thread without a post. <paramref name="afterEach"/> runs after each
    /// socket's events: what a completion posted runs before the next socket's, as it would have if it had not been
    /// posted, so the frames it releases serve the next connection.
    /// </summary>
    public void Dispatch(int count, Action afterEach, Action<Exception>? onUnhandledException)
    {
        for (int i = 0; i < count; i++)
        {
            byte* entry = _events + (i * EpollEventSize);
            uint mask = Unsafe.ReadUnaligned<uint>(entry);
            ulong key = Unsafe.ReadUnaligned<ulong>(entry + EpollDataOffset);
            if (key == WakeKey)
            {
                ulong drained;
                _ = read(_wake, (byte*)&drained, sizeof(ulong));
                // Cleared before the worker drains its queue: a post from now on writes again.
                Volatile.Write(ref _wakePending, 0);
                continue;
            }
            int slot = (int)(uint)key;
            WorkerSocketStream? socket = _sockets[slot];
            if (socket is null || _generations[slot] != (uint)(key >> 32))
            {
                continue;
            }
            try
            {
                socket.OnEvents(mask);
            }
            catch (Exception e) when (onUnhandledException is not null)
            {
                onUnhandledException(e);
            }
            afterEach();
        }
    }

    public void Dispose()
    {
        lock (_closing)
        {
            _closed = true;
            _ = close(_wake);
        }
        _ = close(_epoll);
        NativeMemory.Free(_events);
    }

    private void Control(int operation, int fd, uint mask, ulong key)
    {
        byte* entry = stackalloc byte[16];
        Unsafe.WriteUnaligned(entry, mask);
        Unsafe.WriteUnaligned(entry + EpollDataOffset, key);
        Check(epoll_ctl(_epoll, operation, fd, entry), "epoll_ctl");
    }

    private static int Check(int result, string call) =>
        result >= 0 ? result : throw new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
