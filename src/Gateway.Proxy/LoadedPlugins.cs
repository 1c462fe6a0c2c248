using Gateway.Http.Transport;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Forwarding;

namespace Gateway.Proxy;

/// <summary>
/// The plugin runtime generation of one snapshot, counted per worker that attached it. A reload builds the
/// next generation from this one (unchanged plugins keep their VMs, which move between generations on each
/// worker); the replaced generation is disposed once it is retired and the last worker has let go of it. Its plugins'
/// <c>http_call</c> client goes with it: the kept VMs call through the next generation's, so by then nothing sends on
/// this one but calls already in flight, which finish. The next generation's client shares the connections of the
/// clusters it left unchanged, so those stay open with it.
/// </summary>
public sealed class LoadedPlugins
{
    private int _workers;
    private int _retired;
    private int _disposed;

    /// <param name="httpCalls">The client given to <paramref name="runtime"/>'s services, owned from here on.</param>
    public LoadedPlugins(PluginRuntime runtime, ClusterHttpCalls httpCalls)
    {
        Runtime = runtime;
        HttpCalls = httpCalls;
    }

    public PluginRuntime Runtime { get; }

    /// <summary>The generation's callout client, from which the next generation's takes the unchanged clusters' connections.</summary>
    public ClusterHttpCalls HttpCalls { get; }

    /// <summary>Creates a worker's VMs, taking over those of kept plugins from <paramref name="previous"/>; called on that worker.</summary>
    internal WorkerPlugins Attach(WorkerLoop loop, WorkerPlugins? previous)
    {
        Interlocked.Increment(ref _workers);
        return Runtime.CreateWorker(loop, previous);
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
            HttpCalls.Dispose();
        }
    }
}
