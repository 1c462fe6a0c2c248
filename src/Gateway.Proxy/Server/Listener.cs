using System.Net.Sockets;

namespace Gateway.Proxy.Server;

/// <summary>
/// A bound listener and what its connections share: the scheme clients reached it with (the only source of
/// <c>X-Forwarded-Proto</c>) and the cap on connections open at once.
/// </summary>
public sealed class Listener
{
    private long _open;
    private int _atCap;

    internal Listener(int index, ListenerOptions options, Socket socket)
    {
        Index = index;
        Options = options;
        Socket = socket;
    }

    public int Index { get; }

    public string Name => Options.Name;

    public ListenerOptions Options { get; }

    internal Socket Socket { get; }

    /// <summary><c>http</c>; <c>https</c> on a TLS listener.</summary>
    public string Scheme => "http";

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
