namespace Gateway.Perf.Load;

/// <summary>
/// Holds many idle keep-alive connections open, each having completed one
/// request, so a proxy's memory per connection can be read as an RSS delta.
/// Connections are opened a few at a time to stay inside the listen backlog.
/// </summary>
public sealed class IdleConnectionSet : IDisposable
{
    private readonly List<LoadConnection> _connections = [];

    /// <summary>Opens up to <paramref name="count"/> connections; returns how many completed their request.</summary>
    public int Open(RequestTemplate template, int count, int parallelism = 8)
    {
        var opened = new LoadConnection?[count];
        var next = -1;
        var threads = new Thread[Math.Min(parallelism, count)];
        for (var t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    var connection = new LoadConnection(template, receiveTimeoutMs: 3_000);
                    try
                    {
                        if (connection.Exchange(i) is >= 200 and < 300)
                        {
                            opened[i] = connection;
                            continue;
                        }
                    }
                    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
                    {
                    }
                    connection.Dispose();
                }
            })
            { IsBackground = true };
            threads[t].Start();
        }
        foreach (var thread in threads)
        {
            thread.Join();
        }
        foreach (var connection in opened)
        {
            if (connection is not null)
            {
                _connections.Add(connection);
            }
        }
        return _connections.Count;
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
        _connections.Clear();
    }
}
