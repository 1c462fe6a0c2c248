using Gateway.Http.Transport;
using Gateway.Plugins;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Server;

/// <summary>
/// What one worker owns: its loop, its upstream pools (one per cluster) and its plugin VMs. Everything
/// here is touched only from the worker's thread, so none of it is locked.
/// </summary>
public sealed class ProxyWorker : IDisposable
{
    private ProxySnapshot? _snapshot;
    private UpstreamPool[] _pools = [];
    private WorkerPlugins? _plugins;

    public ProxyWorker(WorkerLoop loop)
    {
        Loop = loop;
    }

    public WorkerLoop Loop { get; }

    /// <summary>Pools and VMs for <paramref name="snapshot"/>, created on first use after a swap.</summary>
    public (UpstreamPool[] Pools, WorkerPlugins? Plugins) StateFor(ProxySnapshot snapshot)
    {
        if (!ReferenceEquals(snapshot, _snapshot))
        {
            DisposeState();
            _snapshot = snapshot;
            _pools = new UpstreamPool[snapshot.Clusters.Count];
            for (int i = 0; i < _pools.Length; i++)
            {
                _pools[i] = new UpstreamPool(snapshot.Clusters[i], snapshot.Metrics, Loop.Index);
            }
            _plugins = snapshot.Plugins?.CreateWorker(Loop);
        }
        return (_pools, _plugins);
    }

    public void Dispose()
    {
        DisposeState();
        Loop.Dispose();
    }

    private void DisposeState()
    {
        foreach (var pool in _pools)
        {
            pool.Dispose();
        }
        _plugins?.Dispose();
        _plugins = null;
    }
}
