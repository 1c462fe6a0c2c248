using System.Net.Sockets;
using Gateway.Proxy.Tls;

namespace Gateway.Proxy.Server;

/// <summary>
/// A bound listener and what its connections share: the scheme clients reached it with (the only source of
/// <c>X-Forwarded-Proto</c>) and the cap on connections open at once.
/// </summary>
public sealed class Listener
{
    private long _open;
    private int _atCap;

    internal Listener(int index, ListenerOptions options, Socket socket, TlsTerminator? tls)
    {
        Index = index;
        Options = options;
        Socket = socket;
        Tls = tls;
        Scheme = tls is null ? "http" : "https";
    }

    public int Index { get; }

    public string Name => Options.Name;

    public ListenerOptions Options { get; }

    internal Socket Socket { get; }

    /// <summary>Set when the listener terminates TLS.</summary>
    internal TlsTerminator? Tls { get; }

    /// <summary><c>http</c>; <c>https</c> on a TLS listener.</summary>
    public string Scheme { get; }

    public long OpenConnections => Interlocked.Read(ref _open);

    /// <summary>Takes a connection slot; false at <see cref="ListenerOptions.MaxConnections"/>.</summary>
    internal bool TryAdmit()
    {
        if (Interlocked.Increment(ref _open) <= Options.MaxConnections)
        {
            return true;
        }
        Interlocked.Decrement(ref _open);
        return false;
    }

    internal void Release() => Interlocked.Decrement(ref _open);

    /// <summary>True on the first refusal after the listener was below its cap: one log line per episode, not per connection.</summary>
    internal bool EnterCap() => Interlocked.Exchange(ref _atCap, 1) == 0;

    internal void LeaveCap() => Volatile.Write(ref _atCap, 0);
}
