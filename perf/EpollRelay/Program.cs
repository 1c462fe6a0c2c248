using Gateway.Perf.EpollRelay;

// EpollRelay <listen port> <upstream port>
// What a request costs in C# when nothing stands between the code and the kernel: one thread waits in epoll_wait,
// and each client connection gets its own upstream connection whose bytes it relays both ways unread. No HTTP, no
// pooling, no timeouts: a floor under any proxy written on this runtime, as `direct` is a floor under every proxy.
if (args.Length != 2 || !int.TryParse(args[0], out int listenPort) || !int.TryParse(args[1], out int upstreamPort))
{
    Console.Error.WriteLine("usage: EpollRelay <listen port> <upstream port>");
    return 2;
}
return new Relay(listenPort, upstreamPort).Run();
