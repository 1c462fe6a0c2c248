namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The idle keep-alive connections of plugin callouts to one cluster endpoint. Callouts start on every worker and
/// complete on the thread pool, so it is locked; it holds at most a fixed number, newest last, and the newest is
/// reused first (the one the server is least likely to have closed). A connection idle past the timeout is never
/// reused, and the owner's sweep closes it. Once disposed, it closes what it holds and every connection returned to
/// it after: calls in flight end on their own connections.
/// </summary>
internal sealed class CalloutConnectionPool : IDisposable
{
    private readonly List<CalloutConnection> _idle;
    private readonly int _capacity;
    private readonly long _idleTimeoutMs;
    private bool _disposed;

    public CalloutConnectionPool(int capacity, long idleTimeoutMs)
    {
        _capacity = capacity;
        _idleTimeoutMs = idleTimeoutMs;
        _idle = new List<CalloutConnection>(capacity);
    }

    /// <summary>The newest idle connection still fit to carry a request, or null; the unfit ones met on the way are closed.</summary>
    public CalloutConnection? Take()
    {
        long now = Environment.TickCount64;
        while (true)
        {
            CalloutConnection connection;
            lock (_idle)
            {
                if (_idle.Count == 0)
                {
                    return null;
                }
                connection = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
            }
            if (now - connection.IdleSinceMs < _idleTimeoutMs && !connection.IsStale())
            {
                return connection;
            }
            connection.Dispose();
        }
    }

    /// <summary>Keeps a connection whose exchange allowed reuse (KA-4); closes it when the pool is full or disposed.</summary>
    public void Return(CalloutConnection connection)
    {
        lock (_idle)
        {
            if (!_disposed && _idle.Count < _capacity)
            {
                connection.IdleSinceMs = Environment.TickCount64;
                _idle.Add(connection);
                return;
            }
        }
        connection.Dispose();
    }

    /// <summary>Closes the connections idle past the timeout: the oldest, at the front.</summary>
    public void CloseExpired()
    {
        long now = Environment.TickCount64;
        lock (_idle)
        {
            int expired = 0;
            while (expired < _idle.Count && now - _idle[expired].IdleSinceMs >= _idleTimeoutMs)
            {
                _idle[expired].Dispose();
                expired++;
            }
            _idle.RemoveRange(0, expired);
        }
    }

    public void Dispose()
    {
        lock (_idle)
        {
            _disposed = true;
            foreach (CalloutConnection connection in _idle)
            {
                connection.Dispose();
            }
            _idle.Clear();
        }
    }
}
