using Gateway.Http.Transport;
using Gateway.Plugins;

namespace Gateway.Proxy;

/// <summary>
/// A loaded plugin runtime, shared by every snapshot whose plugins, backends and clusters did not change,
/// so a reload that only touches routes or limits keeps each worker's VMs and their state. A replaced
/// runtime is disposed once it is retired and the last worker has let go of its VMs.
/// </summary>
public sealed class LoadedPlugins
{
    private int _workers;
    private int _retired;
    private int _disposed;

    public LoadedPlugins(PluginRuntime runtime)
    {
        Runtime = runtime;
    }

    public PluginRuntime Runtime { get; }

    /// <summary>Creates a worker's VMs; called on that worker.</summary>
    internal WorkerPlugins Attach(WorkerLoop loop)
    {
        Interlocked.Increment(ref _workers);
        return Runtime.CreateWorker(loop);
    }

    /// <summary>Disposes a worker's VMs; the runtime follows when it is retired and this was the last worker.</summary>
    internal void Detach(WorkerPlugins plugins)
    {
        plugins.Dispose();
        if (Interlocked.Decrement(ref _workers) == 0 && Volatile.Read(ref _retired) == 1)
        {
            DisposeRuntime();
        }
    }

    /// <summary>No new snapshot will use this runtime.</summary>
    public void Retire()
    {
        Volatile.Write(ref _retired, 1);
        if (Volatile.Read(ref _workers) == 0)
        {
            DisposeRuntime();
        }
    }

    private void DisposeRuntime()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Runtime.Dispose();
        }
    }
}
