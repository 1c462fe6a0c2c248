using System.Diagnostics;
using Gateway.Http.Transport;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Logging;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Runtime;

/// <summary>
/// The plugin VMs of one worker (docs/design.md, 'Workers'): one per VM group, created lazily on the worker thread, entered only
/// from it. A VM that failed is replaced from the compiled module in the background. After a reload the VMs of
/// kept groups move to the next generation's <see cref="WorkerPlugins"/> of the same worker.
/// </summary>
public sealed class WorkerPlugins : IDisposable
{
    private readonly PluginRuntime _runtime;
    private readonly Dictionary<VmGroup, VmSlot> _slots = [];
    // Each route's chain resolved once, by the identity of its list of names (a route keeps one list for its
    // generation), instead of two lookups by name and group per plugin per request. Bounded: callers that build a
    // list per stream only refill it.
    private readonly Dictionary<IReadOnlyList<string>, ResolvedChain> _chains = new(ReferenceEqualityComparer.Instance);
    private const int MaxChains = 64;
    private bool _disposed;

    internal WorkerPlugins(PluginRuntime runtime, WorkerLoop loop)
    {
        _runtime = runtime;
        Loop = loop;
    }

    internal WorkerLoop Loop { get; }

    internal PluginRuntime Runtime => _runtime;

    /// <summary>Starts an exchange through <paramref name="pluginNames"/> (the route's chain, in config order).</summary>
    public PluginStream BeginStream(IReadOnlyList<string> pluginNames, StreamInfo info)
    {
        var chain = Resolve(pluginNames);
        var plugins = chain.Plugins;
        var contexts = new StreamContext?[plugins.Length];
        var stream = new PluginStream(plugins, contexts, info);
        for (int i = 0; i < plugins.Length; i++)
        {
            var vm = chain.Slots[i].Acquire();
            contexts[i] = vm?.NewStreamContext(plugins[i], stream, i);
        }
        stream.Initialize();
        return stream;
    }

    private ResolvedChain Resolve(IReadOnlyList<string> pluginNames)
    {
        if (_chains.TryGetValue(pluginNames, out var chain))
        {
            return chain;
        }
        var plugins = new PluginDefinition[pluginNames.Count];
        var slots = new VmSlot[plugins.Length];
        for (int i = 0; i < plugins.Length; i++)
        {
            plugins[i] = _runtime.Find(pluginNames[i]);
            slots[i] = Slot(plugins[i].Group);
        }
        if (_chains.Count >= MaxChains)
        {
            _chains.Clear();
        }
        chain = new ResolvedChain(plugins, slots);
        _chains.Add(pluginNames, chain);
        return chain;
    }

    /// <summary>
    /// After a re-route: appends to <paramref name="stream"/> the plugins of <paramref name="pluginNames"/> (the
    /// destination route's) that are not in its chain yet, in their order, so none runs twice. Returns the index of the
    /// first one added, or -1 when every plugin of the destination already ran.
    /// </summary>
    public int ExtendStream(PluginStream stream, IReadOnlyList<string> pluginNames)
    {
        stream.AcceptRoute();
        var added = new List<PluginDefinition>();
        foreach (string name in pluginNames)
        {
            var plugin = _runtime.Find(name);
            if (!stream.Plugins.Contains(plugin) && !added.Contains(plugin))
            {
                added.Add(plugin);
            }
        }
        if (added.Count == 0)
        {
            return -1;
        }
        int from = stream.Plugins.Count;
        var contexts = new StreamContext?[added.Count];
        for (int i = 0; i < contexts.Length; i++)
        {
            var vm = Slot(added[i].Group).Acquire();
            contexts[i] = vm?.NewStreamContext(added[i], stream, from + i);
        }
        return stream.Append([.. added], contexts);
    }

    /// <summary>Builds the VMs of <paramref name="groups"/> on this worker.</summary>
    internal void Start(List<VmGroup> groups)
    {
        foreach (var group in groups)
        {
            Slot(group).Acquire();
        }
    }

    /// <summary>Hands this worker's slot of <paramref name="group"/> to the next generation; null when there is none.</summary>
    internal VmSlot? Give(VmGroup group)
    {
        // A chain that holds the slot must not reach the next generation's VM through it.
        _chains.Clear();
        return _slots.Remove(group, out var slot) ? slot : null;
    }

    /// <summary>Takes over a slot (and its live VM) from the previous generation on this worker.</summary>
    internal void Adopt(VmSlot slot)
    {
        slot.MoveTo(this);
        _slots.Add(slot.Group, slot);
    }

    internal VmSlot Slot(VmGroup group)
    {
        if (!_slots.TryGetValue(group, out var slot))
        {
            slot = new VmSlot(group, this);
            _slots.Add(group, slot);
        }
        return slot;
    }

    /// <summary>
    /// A VM trapped or hit a limit: streams paused on it get their failure policy, and a replacement is built
    /// after the current work item, so the next request does not pay for it (docs/proxy-wasm.md, 'Loading and VMs').
    /// </summary>
    internal void OnVmFailed(PluginVm vm, List<StreamContext> waiting)
    {
        Loop.Post(static s =>
        {
            var (worker, failed, streams) = ((WorkerPlugins, PluginVm, List<StreamContext>))s!;
            foreach (var context in streams)
            {
                context.Stream.OnPluginFailed(context);
            }
            if (!worker._disposed && worker._slots.TryGetValue(failed.Group, out var slot))
            {
                slot.Replace(failed);
            }
        }, (this, vm, waiting));
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var slot in _slots.Values)
        {
            slot.Dispose();
        }
        _slots.Clear();
        _chains.Clear();
    }
}

/// <summary>The current VM of one group on one worker, and its replacement after a failure.</summary>
internal sealed class VmSlot(VmGroup group, WorkerPlugins worker) : IDisposable
{
    private WorkerPlugins _worker = worker;
    private PluginVm? _vm;
    private bool _everCreated;
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(100);

    private long _lastAttempt;
    private bool _lastBuildFailed;

    public VmGroup Group => group;

    /// <summary>The slot now belongs to <paramref name="next"/>: its VM reaches services and reports failures through it.</summary>
    public void MoveTo(WorkerPlugins next)
    {
        _worker = next;
        if (_vm is not null)
        {
            _vm.Worker = next;
        }
    }

    /// <summary>The live VM, built now if there is none; null when it cannot be built (the failure policy applies).</summary>
    public PluginVm? Acquire()
    {
        if (_vm is { Failed: false } vm)
        {
            return vm;
        }
        // A module that fails to start is retried at most every RetryInterval (docs/proxy-wasm.md, 'Loading and VMs', Envoy issue 39395).
        long now = Stopwatch.GetTimestamp();
        if (_lastBuildFailed && Stopwatch.GetElapsedTime(_lastAttempt, now) < RetryInterval)
        {
            return null;
        }
        _lastAttempt = now;
        Build();
        return _vm;
    }

    /// <summary>Replaces <paramref name="failed"/> if it is still the slot's VM.</summary>
    public void Replace(PluginVm failed)
    {
        if (_vm == failed)
        {
            _vm = null;
            Acquire();
        }
    }

    /// <summary>Puts a fresh VM in place of <paramref name="vm"/>, which serves its remaining streams and is then disposed.</summary>
    public void Retire(PluginVm vm)
    {
        vm.Retired = true;
        if (_vm == vm)
        {
            _vm = null;
            Acquire();
        }
    }

    private void Build()
    {
        long start = Stopwatch.GetTimestamp();
        var vm = PluginVm.Create(group, _worker, out string? error);
        double elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        _vm = vm;
        _lastBuildFailed = vm is null;
        if (vm is null)
        {
            PluginLog.VmRecreateFailed(group.Logger, group.Name, _worker.Loop.Index, error ?? "unknown");
            _everCreated = true;
            return;
        }
        if (_everCreated)
        {
            foreach (var plugin in group.Plugins)
            {
                plugin.Counters.RecordRecreation();
            }
            group.Engine.RecordRecreationTime(elapsed);
            PluginLog.VmRecreated(group.Logger, group.Name, _worker.Loop.Index, elapsed);
        }
        _everCreated = true;
    }

    public void Dispose()
    {
        _vm?.Dispose();
        _vm = null;
    }
}
