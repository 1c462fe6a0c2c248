using System.Runtime.InteropServices;

namespace Gateway.Perf.EpollRelay;

/// <summary>
/// The relay's one loop: accept, pair each client with a fresh upstream connection, and copy whatever one side of a
/// pair sends to the other. Level-triggered, one read per readiness event, sends retried until whole (the messages of
/// the comparison are small, so a send that would block is rare).
/// </summary>
internal sealed unsafe class Relay
{
    private const int BufferSize = 64 * 1024;
    private const int MaxEvents = 256;

    private readonly int _listenPort;
    private readonly int _upstreamPort;
    private readonly Dictionary<int, int> _peers = new();

    public Relay(int listenPort, int upstreamPort)
    {
        _listenPort = listenPort;
        _upstreamPort = upstreamPort;
    }

    public int Run()
    {
        int listener = Sockets.Listen(_listenPort);
        if (listener < 0)
        {
            Console.Error.WriteLine($"EpollRelay: cannot listen on 127.0.0.1:{_listenPort}");
            return 1;
        }
        int epoll = Linux.epoll_create1(0);
        Sockets.Watch(epoll, listener);
        byte* buffer = (byte*)NativeMemory.Alloc(BufferSize);
        Linux.EpollEvent* events = (Linux.EpollEvent*)NativeMemory.Alloc((nuint)(sizeof(Linux.EpollEvent) * MaxEvents));
        while (true)
        {
            int ready = Linux.epoll_wait(epoll, events, MaxEvents, -1);
            for (int i = 0; i < ready; i++)
            {
                int fd = (int)events[i].Data;
                if (fd == listener)
                {
                    AcceptAll(epoll, listener);
                }
                else
                {
                    Forward(fd, buffer);
                }
            }
        }
    }

    private void AcceptAll(int epoll, int listener)
    {
        while (Linux.accept4(listener, null, null, Linux.SOCK_NONBLOCK) is int client and >= 0)
        {
            int upstream = Sockets.Connect(_upstreamPort);
            if (upstream < 0)
            {
                Linux.close(client);
                continue;
            }
            Sockets.NoDelay(client);
            _peers[client] = upstream;
            _peers[upstream] = client;
            Sockets.Watch(epoll, client);
            Sockets.Watch(epoll, upstream);
        }
    }

    private void Forward(int fd, byte* buffer)
    {
        if (!_peers.TryGetValue(fd, out int peer))
        {
            return;
        }
        long read = Linux.recv(fd, buffer, BufferSize, 0);
        if (read < 0 && Marshal.GetLastPInvokeError() == Linux.EAGAIN)
        {
            return;
        }
        if (read <= 0 || !Sockets.SendAll(peer, buffer, read))
        {
            // One side ended or failed: the pair ends (closing a socket also takes it out of the epoll set).
            _peers.Remove(fd);
            _peers.Remove(peer);
            Linux.close(fd);
            Linux.close(peer);
        }
    }
}
