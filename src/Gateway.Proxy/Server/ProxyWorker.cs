using Gateway.Http.Transport;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Server;

/// <summary>
/// What one worker owns: its loop, and for each config snapshot in use its upstream pools (one per
/// cluster) and plugin VMs. Everything here is touched only from the worker's thread, so none of it is
/// locked. After a reload the previous snapshot's state lives until the last request using it ends.
/// </summary>
public sealed class ProxyWorker : IDisposable
{
    private WorkerState? _current;

    public ProxyWorker(WorkerLoop loop)
    {
        Loop = loop;
    }

    public WorkerLoop Loop { get; }

    /// <summary>The state for <paramref name="snapshot"/>, held until <see cref="WorkerState.Release"/>.</summary>
    internal WorkerState Acquire(ProxySnapshot snapshot)
    {
        if (_current is null || !ReferenceEquals(_current.Snapshot, snapshot))
        {
            var previous = _current;
            _current = new WorkerState(snapshot, Loop, previous);
            previous?.Retire();
        }
        _current.Users++;
        return _current;
    }

    public void Dispose()
    {
        _current?.Retire();
        _current = null;
        Loop.Dispose();
    }
}

/// <summary>One worker's pools and VMs for one snapshot, disposed once retired and unused.</summary>
internal sealed class WorkerState
{
    private bool _retired;

    internal WorkerState(ProxySnapshot snapshot, WorkerLoop loop, WorkerState? previous)
    {
        Snapshot = snapshot;
        Pools = new UpstreamPool[snapshot.Clusters.Count];
        for (int i = 0; i < Pools.Length; i++)
        {
            Pools[i] = new UpstreamPool(snapshot.Clusters[i], snapshot.Metrics, loop);
        }
        // VMs of plugins the reload kept move over with their state; requests still running on the previous
        // state keep using them.
        Plugins = snapshot.Plugins?.Attach(loop, previous?.Plugins);
    }

    public ProxySnapshot Snapshot { get; }

    public UpstreamPool[] Pools { get; }

    public WorkerPlugins? Plugins { get; }

    internal int Users { get; set; }

    public void Release()
    {
        if (--Users == 0 && _retired)
        {
            DisposeNow();
        }
    }

    internal void Retire()
    {
        _retired = true;
        if (Users == 0)
        {
            DisposeNow();
        }
    }

    private void DisposeNow()
    {
        foreach (var pool in Pools)
        {
            pool.Dispose();
        }
        if (Plugins is not null)
        {
            Snapshot.Plugins!.Detach(Plugins);
        }
    }
}
