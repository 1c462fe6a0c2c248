using System.Net;
using System.Net.Sockets;
using Gateway.Http;
using Gateway.Http.Transport;
using Gateway.Proxy.Tls;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy.Server;

/// <summary>
/// The data plane: listeners feeding a fixed set of workers. Accepted sockets are dealt to workers in
/// turn and stay there for life (docs/design.md, 'Workers'). Holds the current <see cref="ProxySnapshot"/>, swapped whole
/// on reload, and runs the graceful drain.
/// </summary>
public sealed class ProxyServer : IAsyncDisposable
{
    private readonly ProxyWorker[] _workers;
    private readonly HashSet<ClientConnection>[] _connectionsByWorker;
    private readonly List<Listener> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private ProxySnapshot _snapshot;
    private int _nextWorker;
    private long _connections;
    private volatile bool _draining;

    /// <param name="loops">The workers' loops (<see cref="StartWorkers"/>), which the server owns from now on.</param>
    public ProxyServer(ProxySnapshot snapshot, IReadOnlyList<WorkerLoop> loops, ILoggerFactory loggerFactory)
    {
        _snapshot = snapshot;
        _logger = loggerFactory.CreateLogger("Gateway.Proxy");
        _workers = new ProxyWorker[loops.Count];
        _connectionsByWorker = new HashSet<ClientConnection>[loops.Count];
        for (int i = 0; i < loops.Count; i++)
        {
            _workers[i] = new ProxyWorker(loops[i]);
            _connectionsByWorker[i] = [];
        }
    }

    /// <summary>
    /// Starts the workers' loops, before anything that lives on them: the Redis connections of the backends, then the
    /// server. A work item's unhandled exception is logged and the worker goes on.
    /// </summary>
    public static WorkerLoop[] StartWorkers(int workers, ILoggerFactory loggerFactory)
    {
        ILogger logger = loggerFactory.CreateLogger("Gateway.Proxy");
        var loops = new WorkerLoop[WorkerCount(workers)];
        for (int i = 0; i < loops.Length; i++)
        {
            loops[i] = new WorkerLoop(i) { OnUnhandledException = e => ProxyLog.ConnectionFailed(logger, e, "worker") };
        }
        return loops;
    }

    /// <summary>How many workers config <c>workers</c> asks for: 0 means one per CPU.</summary>
    public static int WorkerCount(int configured) => configured > 0 ? configured : Environment.ProcessorCount;

    public ProxySnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>Limits applied to upstream responses: generous, but bounded (LIM: upstream head 502 when exceeded).</summary>
    public HttpLimits UpstreamLimits { get; } = new() { MaxHeaderBytes = 65536, MaxHeaderCount = 200, MaxRequestLineBytes = 8192 };

    public bool IsDraining => _draining;

    public IReadOnlyList<IPEndPoint> BoundEndpoints { get; private set; } = [];

    public IReadOnlyList<ProxyWorker> Workers => _workers;

    public long OpenConnections => Interlocked.Read(ref _connections);

    /// <summary>Where access log lines go; set once before <see cref="Start"/>, null when there is none.</summary>
    public Logging.AccessLog? AccessLog { get; set; }

    /// <summary>Listener counters; made by <see cref="Start"/>, they live as long as the server.</summary>
    public EdgeMetrics EdgeMetrics { get; private set; } = new([]);

    /// <summary>
    /// Swaps the configuration; requests already running finish on the snapshot they started with. Completes
    /// once every worker has moved to it (idle ones too), after which no worker takes up an older snapshot again.
    /// </summary>
    public Task Apply(ProxySnapshot snapshot)
    {
        Volatile.Write(ref _snapshot, snapshot);
        return MoveWorkersAsync();
    }

    /// <summary>Each worker takes up the current snapshot: its pools, and its plugin VMs with their ticks and singletons.</summary>
    private Task MoveWorkersAsync()
    {
        var moved = new Task[_workers.Length];
        for (int i = 0; i < _workers.Length; i++)
        {
            ProxyWorker worker = _workers[i];
            moved[i] = worker.Loop.RunAsync(() =>
            {
                worker.Acquire(Snapshot).Release();
                return Task.CompletedTask;
            });
        }
        return Task.WhenAll(moved);
    }

    /// <summary>
    /// Binds every listener (all or nothing) and starts accepting. A start that fails has closed every socket it opened
    /// before its error goes on, so the ports are free again at once, whether or not the server is disposed after.
    /// </summary>
    public void Start(IReadOnlyList<ListenerOptions> listeners)
    {
        var bound = new List<IPEndPoint>();
        var names = new string[listeners.Count];
        try
        {
            for (int i = 0; i < listeners.Count; i++)
            {
                Listener listener = Open(i, listeners[i]);
                _listeners.Add(listener);
                names[i] = listener.Name;
                var endpoint = (IPEndPoint)listener.Socket.LocalEndPoint!;
                bound.Add(endpoint);
                ProxyLog.ListenerStarted(_logger, listener.Name, endpoint.ToString());
            }
        }
        catch
        {
            CloseListeners();
            throw;
        }
        BoundEndpoints = bound;
        EdgeMetrics = new EdgeMetrics(names);
        // Plugins start on every worker before the first request: their ticks, queues and singletons run from now.
        _ = MoveWorkersAsync().ContinueWith(
            static (task, state) => ProxyLog.ConnectionFailed((ILogger)state!, task.Exception!, "worker start"),
            _logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        foreach (Listener listener in _listeners)
        {
            _acceptLoops.Add(AcceptLoopAsync(listener));
        }
    }

    /// <summary>
    /// Binds listener <paramref name="index"/> and loads its certificates. A certificate that does not load at start is a
    /// start-up error (the caller reports it): the socket just bound is closed with it, as no listener holds it yet.
    /// </summary>
    private Listener Open(int index, ListenerOptions options)
    {
        Socket socket = ListeningSocket.Open(IPAddress.Parse(options.Address), options.Port, backlog: 4096, $"listeners[{index}] ({options.Name})");
        try
        {
            TlsTerminator? tls = options.Tls is { } tlsOptions ? new TlsTerminator(options.Name, tlsOptions, _logger) : null;
            return new Listener(index, options, socket, tls);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync(Listener listener)
    {
        string name = listener.Name;
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.Socket.AcceptAsync(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // EMFILE and friends: keep the listener alive, back off briefly.
                ProxyLog.AcceptFailed(_logger, name, e.SocketErrorCode.ToString());
                await Task.Delay(10);
                continue;
            }
            if (!listener.TryAdmit())
            {
                // At the cap a connection costs one accept and one close: no worker, no buffers.
                EdgeMetrics.ConnectionRefused(listener.Index);
                if (listener.EnterCap())
                {
                    EdgeLog.ListenerAtCapacity(_logger, name, listener.Options.MaxConnections);
                }
                client.Dispose();
                continue;
            }
            listener.LeaveCap();
            client.NoDelay = true;
            ProxyWorker worker = _workers[(uint)Interlocked.Increment(ref _nextWorker) % (uint)_workers.Length];
            var connection = new ClientConnection(client, listener, this, worker, _logger);
            worker.Loop.Post(static state => _ = ((ClientConnection)state!).RunAsync(), connection);
        }
    }

    internal void ConnectionOpened(ClientConnection connection, ProxyWorker worker)
    {
        Interlocked.Increment(ref _connections);
        _connectionsByWorker[worker.Loop.Index].Add(connection);
        Snapshot.Metrics.ConnectionOpened();
    }

    internal void ConnectionClosed(ClientConnection connection, ProxyWorker worker)
    {
        Interlocked.Decrement(ref _connections);
        connection.Listener.Release();
        _connectionsByWorker[worker.Loop.Index].Remove(connection);
        Snapshot.Metrics.ConnectionClosed();
    }

    /// <summary>
    /// Graceful drain: stop accepting after <paramref name="listenerCloseDelay"/>, answer every in-flight
    /// request with <c>connection: close</c>, close idle keep-alive connections, and wait for the rest up to
    /// <paramref name="drainTimeout"/>. Returns the number of connections still open at the end.
    /// </summary>
    public async Task<long> DrainAsync(TimeSpan listenerCloseDelay, TimeSpan drainTimeout)
    {
        _draining = true;
        if (listenerCloseDelay > TimeSpan.Zero)
        {
            await Task.Delay(listenerCloseDelay);
        }
        StopAccepting();
        var deadline = DateTime.UtcNow + drainTimeout;
        while (true)
        {
            foreach (ProxyWorker worker in _workers)
            {
                var set = _connectionsByWorker[worker.Loop.Index];
                worker.Loop.Post(() =>
                {
                    foreach (var c in set)
                    {
                        c.CloseIfIdle();
                    }
                });
            }
            if (OpenConnections == 0 || DateTime.UtcNow >= deadline)
            {
                return OpenConnections;
            }
            await Task.Delay(20);
        }
    }

    private void StopAccepting()
    {
        _stopping.Cancel();
        CloseListeners();
    }

    /// <summary>Closes every listening socket, which frees its port, and stops its certificate watch.</summary>
    private void CloseListeners()
    {
        foreach (Listener listener in _listeners)
        {
            listener.Socket.Dispose();
            listener.Tls?.Dispose();
        }
        _listeners.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        StopAccepting();
        await Task.WhenAll(_acceptLoops);
        foreach (ProxyWorker worker in _workers)
        {
            var done = new TaskCompletionSource();
            worker.Loop.Post(() =>
            {
                worker.Dispose();
                done.TrySetResult();
            });
            await done.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _stopping.Dispose();
    }
}
