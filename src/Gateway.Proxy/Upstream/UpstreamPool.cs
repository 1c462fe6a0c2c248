using System.Net.Security;
using System.Net.Sockets;
using Gateway.Http.Transport;

namespace Gateway.Proxy.Upstream;

/// <summary>
/// A worker's keep-alive connections to one cluster. Only its worker touches it, so it has no locks;
/// the endpoints' health and request counters are shared through <see cref="UpstreamEndpoint"/>.
/// </summary>
internal sealed class UpstreamPool : IDisposable
{
    private readonly Stack<UpstreamConnection>[] _idle;
    private const int MaxPendingPerWorker = 4096;

    private readonly ProxyMetrics _metrics;
    private readonly WorkerLoop _loop;
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private int _roundRobinCursor;
    private int _open;

    public UpstreamPool(Cluster cluster, ProxyMetrics metrics, WorkerLoop loop)
    {
        Cluster = cluster;
        _metrics = metrics;
        _loop = loop;
        _roundRobinCursor = loop.Index;
        _idle = new Stack<UpstreamConnection>[cluster.Endpoints.Count];
        for (int i = 0; i < _idle.Length; i++)
        {
            _idle[i] = new Stack<UpstreamConnection>();
        }
    }

    public Cluster Cluster { get; }

    /// <summary>Picks an endpoint and returns a fresh-enough pooled connection or a new one.</summary>
    public ValueTask<(UpstreamConnection? Connection, UpstreamEndpoint Endpoint, UpstreamError Error)> AcquireAsync(UpstreamEndpoint? avoid)
    {
        // The common case, a pooled connection to the endpoint picked, completes without an async step.
        return PickPooled(avoid, out UpstreamEndpoint endpoint) is { } pooled
            ? new((pooled, endpoint, UpstreamError.None))
            : ConnectOrWaitAsync(endpoint, avoid);
    }

    /// <summary>No pooled connection to <paramref name="endpoint"/>: a new one, or one released within the connect timeout.</summary>
    private async ValueTask<(UpstreamConnection? Connection, UpstreamEndpoint Endpoint, UpstreamError Error)> ConnectOrWaitAsync(
        UpstreamEndpoint endpoint, UpstreamEndpoint? avoid)
    {
        long waitUntil = 0;
        while (true)
        {
            if (_open < Cluster.Options.MaxConnectionsPerWorker)
            {
                var (connection, error) = await ConnectAsync(endpoint);
                return (connection, endpoint, error);
            }
            // At the connection cap a request queues for a released connection, as Envoy's pending requests do,
            // for at most the connect timeout; beyond the queue bound or that wait it is refused (503).
            waitUntil = waitUntil == 0 ? Environment.TickCount64 + Cluster.Options.ConnectTimeoutMs : waitUntil;
            long left = waitUntil - Environment.TickCount64;
            if (left <= 0 || _waiters.Count >= MaxPendingPerWorker || !await WaitForReleaseAsync(left))
            {
                return (null, endpoint, UpstreamError.PoolExhausted);
            }
            if (PickPooled(avoid, out endpoint) is { } pooled)
            {
                return (pooled, endpoint, UpstreamError.None);
            }
        }
    }

    /// <summary>Picks an endpoint and takes a fresh-enough pooled connection to it, if there is one.</summary>
    private UpstreamConnection? PickPooled(UpstreamEndpoint? avoid, out UpstreamEndpoint endpoint)
    {
        endpoint = Cluster.Pick(ref _roundRobinCursor, avoid);
        return TakeIdle(endpoint);
    }

    private async ValueTask<bool> WaitForReleaseAsync(long milliseconds)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue(waiter);
        try
        {
            await waiter.Task.WaitAsync(TimeSpan.FromMilliseconds(milliseconds));
            return true;
        }
        catch (TimeoutException)
        {
            // Abandoned: a later release skips it.
            waiter.TrySetCanceled();
            return false;
        }
    }

    private void WakeOneWaiter()
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult())
            {
                return;
            }
        }
    }

    /// <summary>Returns a connection after an exchange; it is pooled only when KA-4 held for that exchange.</summary>
    public void Release(UpstreamConnection connection, bool reusable)
    {
        long now = Environment.TickCount64;
        if (reusable && !Cluster.Endpoints[connection.Endpoint.Index].IsEjected(now * TimeSpan.TicksPerMillisecond))
        {
            connection.IdleSinceTicks = now;
            _idle[connection.Endpoint.Index].Push(connection);
            _metrics.UpstreamIdleChanged(Cluster.Index, +1);
            connection.WatchWhileIdle();
        }
        else
        {
            Close(connection);
        }
        WakeOneWaiter();
    }

    /// <summary>Reports a failure that is the endpoint's fault (refused, reset) for passive ejection.</summary>
    public void ReportFailure(UpstreamEndpoint endpoint)
    {
        var o = Cluster.Options;
        if (endpoint.ReportFailure(o.EjectionConsecutiveFailures, o.EjectionCooldownMs, Environment.TickCount64 * TimeSpan.TicksPerMillisecond))
        {
            _metrics.EndpointEjected(Cluster.Index);
            // Connections to an ejected endpoint are not worth keeping.
            while (_idle[endpoint.Index].TryPop(out var c))
            {
                _metrics.UpstreamIdleChanged(Cluster.Index, -1);
                Close(c);
            }
        }
    }

    public void Dispose()
    {
        foreach (var stack in _idle)
        {
            while (stack.TryPop(out var c))
            {
                _metrics.UpstreamIdleChanged(Cluster.Index, -1);
                Close(c);
            }
        }
    }

    private UpstreamConnection? TakeIdle(UpstreamEndpoint endpoint)
    {
        var stack = _idle[endpoint.Index];
        long now = Environment.TickCount64;
        while (stack.TryPop(out var c))
        {
            _metrics.UpstreamIdleChanged(Cluster.Index, -1);
            if (now - c.IdleSinceTicks < Cluster.Options.PooledIdleTimeoutMs && !c.IsStale())
            {
                return c;
            }
            Close(c);
        }
        return null;
    }

    private async ValueTask<(UpstreamConnection?, UpstreamError)> ConnectAsync(UpstreamEndpoint endpoint)
    {
        // The slot is taken before the connect is awaited, so requests arriving meanwhile see the cap.
        _open++;
        using var timeout = new CancellationTokenSource(Cluster.Options.ConnectTimeoutMs);
        WorkerSocketStream stream;
        try
        {
            // On the worker's own epoll from the start: the runtime's socket engine never watches the connection.
            stream = await WorkerSocketStream.ConnectAsync(endpoint.Address, _loop, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            _open--;
            ReportFailure(endpoint);
            WakeOneWaiter();
            return (null, e is OperationCanceledException ? UpstreamError.ConnectTimeout : UpstreamError.ConnectRefused);
        }
        SslStream? tls = null;
        if (Cluster.Options.Tls is { } upstreamTls)
        {
            // The handshake shares the connect timeout: together they are "getting a connection".
            tls = await upstreamTls.AuthenticateAsync(stream, endpoint.Address.Host, endpoint.HostHeader, timeout.Token);
            if (tls is null)
            {
                stream.Dispose();
                _open--;
                WakeOneWaiter();
                return (null, UpstreamError.TlsHandshake);
            }
        }
        _metrics.UpstreamOpenChanged(Cluster.Index, +1);
        return (new UpstreamConnection(endpoint, stream, tls), UpstreamError.None);
    }

    private void Close(UpstreamConnection connection)
    {
        _open--;
        _metrics.UpstreamOpenChanged(Cluster.Index, -1);
        connection.Dispose();
    }
}
