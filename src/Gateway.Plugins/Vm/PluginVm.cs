using System.Diagnostics;
using Gateway.Http.Transport;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Logging;
using Gateway.Plugins.Runtime;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// One instance of a module on one worker: its own <see cref="Store"/> (memory cap, epoch deadline), its contexts,
/// and the guest exports it calls. Only ever entered from the owning worker's thread (docs/design.md, 'Workers'), so nothing here
/// is locked. A trap or a limit marks the VM failed and releases the store; the worker's <see cref="VmSlot"/>
/// builds a replacement from the compiled module.
/// </summary>
internal sealed partial class PluginVm : IDisposable
{
    /// <summary>Start-up (docs/proxy-wasm.md, 'Loading and VMs' and 'Contexts and callbacks') may do real work such as parsing configuration.</summary>
    private const int StartupBudgetMilliseconds = 1000;

    private readonly Store _store;
    private Instance? _instance;
    private readonly CallBudget _budget;
    private readonly Dictionary<int, ProxyContext> _contexts = [];
    private readonly Dictionary<PluginDefinition, RootContext> _roots = [];
    private RootContext? _firstRoot;
    private readonly List<ProxyContext> _touched = [];
    private readonly List<RootContext> _finishing = [];
    private Memory? _memory;
    private int _nextContextId = 1;
    private int _streams;
    private bool _disposed;

    private GuestExports _exports = GuestExports.None;

    private PluginVm(VmGroup group, WorkerPlugins worker)
    {
        Group = group;
        Worker = worker;
        _budget = new CallBudget(group.Engine.Ticker, group.Limits, StartupBudgetMilliseconds);
        _store = new Store(group.Engine.Engine, this);
        _store.SetLimits(memorySize: group.Limits.MemoryBytes);
        _store.SetEpochDeadlineCallback(OnEpochDeadline);
        Phase = VmPhase.Startup;
        _budget.Arm(_store);
    }

    private void Instantiate()
    {
        _budget.StartCpuClock();
        // AssemblyScript runs its start section here, before the instance exists; imports reach memory through the Caller (docs/proxy-wasm.md, 'Loading and VMs').
        _instance = Group.Module.Linker.Instantiate(_store, Group.Module.Module);
        _memory = _instance.GetMemory("memory");
    }

    public VmGroup Group { get; }

    /// <summary>The guest's stdout and stderr, logged a line at a time.</summary>
    public GuestOutput Output { get; } = new();

    /// <summary>The worker's plugins of the generation that owns this VM now; a reload that keeps the group moves it.</summary>
    public WorkerPlugins Worker { get; set; }

    public WorkerLoop Loop => Worker.Loop;

    /// <summary>The owning generation: its services (backends, clusters) are the ones host calls reach.</summary>
    public PluginRuntime Runtime => Worker.Runtime;

    public AbiVersion Abi => Group.Module.Abi;

    public bool Failed { get; private set; }

    public VmPhase Phase { get; private set; }

    /// <summary>The context the current guest call was made for (docs/proxy-wasm.md, 'Contexts and callbacks'); null for the VM context 0.</summary>
    public ProxyContext? Current { get; private set; }

    /// <summary>The context imports act on: <see cref="Current"/> unless the guest called <c>proxy_set_effective_context</c>.</summary>
    public ProxyContext? Effective { get; private set; }

    /// <summary>The plugin an import works for: the effective context's, else the VM's first.</summary>
    public PluginDefinition ActingPlugin => Effective?.Plugin ?? Group.Plugins[0];

    /// <summary>The root whose configuration is readable as buffer 7 (inside <c>proxy_on_configure</c>) or 6 (inside <c>proxy_on_vm_start</c>).</summary>
    public PluginDefinition? ConfiguringPlugin { get; private set; }

    /// <summary>Inside <c>proxy_on_vm_start</c>: 0.1.0's <c>proxy_get_configuration</c> returns the VM configuration.</summary>
    public bool VmStarting { get; private set; }

    public PendingCalls PendingCalls { get; } = new();

    /// <summary>
    /// The exported linear memory as it is now, for one import (<see cref="LinearMemory"/>); during the start section it
    /// is only reachable through the caller.
    /// </summary>
    public LinearMemory GetMemory(Caller caller) =>
        new(_memory ??= caller.GetMemory("memory") ?? throw new InvalidOperationException("module has no exported memory"));

    /// <summary>
    /// During start functions only logging and WASI may be used; inside the allocator, the same (docs/proxy-wasm.md, 'Loading and VMs' and 'Buffers').
    /// Anything else traps with Envoy's "restricted_callback".
    /// </summary>
    public void CheckUnrestricted(string import)
    {
        if (Phase is VmPhase.Startup or VmPhase.Allocating)
        {
            throw new InvalidOperationException($"restricted_callback: {import} is not allowed here");
        }
    }

    /// <summary>Instantiates and starts a VM for <paramref name="group"/>; null with <paramref name="error"/> set when any step fails.</summary>
    public static PluginVm? Create(VmGroup group, WorkerPlugins worker, out string? error)
    {
        var vm = new PluginVm(group, worker);
        try
        {
            vm.Instantiate();
        }
        catch (Exception e)
        {
            error = $"instantiation failed: {TrapMessage.OneLine(e.Message, group.Module.ExportNames)}";
            vm.Release();
            return null;
        }
        try
        {
            error = vm.Start();
        }
        catch (Exception e) when (e is WasmtimeException or InvalidOperationException or ArgumentException)
        {
            // Resolving exports of unexpected shapes must refuse the module, never crash the loader.
            error = $"start-up failed: {TrapMessage.OneLine(e.Message, group.Module.ExportNames)}";
        }
        if (error is not null)
        {
            vm.Dispose();
            return null;
        }
        return vm;
    }

    /// <summary>Current size of the linear memory (the Higress <c>plugin_vm_memory</c> property).</summary>
    public long MemoryLength => _memory?.GetLength() ?? 0;

    /// <summary>The root context of <paramref name="plugin"/>; that of a group's first plugin, most groups' only one, without a lookup.</summary>
    public RootContext RootOf(PluginDefinition plugin) => _firstRoot is { } first && first.Plugin == plugin ? first : _roots[plugin];

    /// <summary>Hands out an id for the next context (docs/proxy-wasm.md, 'Loading and VMs': one monotonic counter per instance, never 0).</summary>
    public StreamContext NewStreamContext(PluginDefinition plugin, PluginStream stream, int index)
    {
        var context = new StreamContext(_nextContextId++, this, plugin, RootOf(plugin), stream, index);
        _contexts.Add(context.Id, context);
        _streams++;
        return context;
    }

    /// <summary>The plugin asked to be rebuilt (Higress <c>wasm_need_rebuild</c>, docs/proxy-wasm.md, 'Other imports').</summary>
    public bool RebuildRequested { get; set; }

    /// <summary>Replaced in its slot; disposed once its last stream ends.</summary>
    public bool Retired { get; set; }

    /// <summary>Remembers that a stream-moving import ran; the stream is moved after the guest call returns (docs/proxy-wasm.md, 'Calls that wait').</summary>
    public void Touch(ProxyContext context)
    {
        if (!_touched.Contains(context))
        {
            _touched.Add(context);
        }
    }

    /// <summary><c>proxy_set_effective_context</c>: later imports of this guest call act on a live context of this VM.</summary>
    public bool TrySetEffective(int id)
    {
        if (!_contexts.TryGetValue(id, out var context) || context.Deleted)
        {
            return false;
        }
        Effective = context;
        return true;
    }

    /// <summary>
    /// <c>proxy_done</c> from a root that answered 0 to <c>proxy_on_done</c>: the root is deleted after the current
    /// guest call (docs/proxy-wasm.md, 'Contexts and callbacks' C2).
    /// </summary>
    public bool TryFinishEffectiveRoot()
    {
        if (Effective is not RootContext { AwaitingDone: true } root)
        {
            return false;
        }
        root.AwaitingDone = false;
        _finishing.Add(root);
        return true;
    }

    /// <summary>
    /// Calls the guest allocator from inside an import (the one permitted nested call, docs/proxy-wasm.md, 'Buffers'). Returns 0 on failure.
    /// The current context is the VM context meanwhile; a trap propagates and fails the outer call.
    /// </summary>
    public int Allocate(int size)
    {
        var (current, effective, phase) = (Current, Effective, Phase);
        Current = Effective = null;
        Phase = VmPhase.Allocating;
        try
        {
            return _exports.Allocate!(size);
        }
        finally
        {
            (Current, Effective, Phase) = (current, effective, phase);
        }
    }

    private string? Start()
    {
        var instance = _instance!;
        _exports = GuestExports.Resolve(instance, Group);
        if (_exports.Allocate is null)
        {
            return "missing malloc: neither proxy_on_memory_allocate nor malloc has type (i32) -> i32";
        }

        // docs/proxy-wasm.md, 'Loading and VMs', in this order; proc_exit(0) from _start is a normal return (WASI toolchains end _start that way).
        var initialize = instance.GetAction("_initialize");
        var start = instance.GetAction("_start");
        if (initialize is not null)
        {
            if (!Invoke(null, initialize))
            {
                return $"_initialize failed: {FailureReason}";
            }
            var main = instance.GetFunction<int, int, int>("main");
            var mainVoid = main is null ? instance.GetFunction<int>("__main_void") : null;
            if ((main is not null && !Invoke(null, main, 0, 0, out _)) || (mainVoid is not null && !Invoke(null, mainVoid, out _)))
            {
                return $"main failed: {FailureReason}";
            }
        }
        else if (start is not null && !Invoke(null, start) && ExitCode != 0)
        {
            return $"_start failed: {FailureReason}";
        }

        foreach (var plugin in Group.Plugins)
        {
            string? error = StartRoot(plugin);
            if (error is not null)
            {
                return error;
            }
        }
        Phase = VmPhase.Running;
        _budget.EnterRunning();
        return null;
    }

    /// <summary>docs/proxy-wasm.md, 'Contexts and callbacks' A2–A4 for one plugin: create its root, <c>proxy_on_vm_start</c>, <c>proxy_on_configure</c>.</summary>
    private string? StartRoot(PluginDefinition plugin)
    {
        var root = new RootContext(_nextContextId++, this, plugin);
        _contexts.Add(root.Id, root);
        _roots.Add(plugin, root);
        _firstRoot ??= root;
        Phase = VmPhase.Configure;
        if (_exports.OnContextCreate is not null && !Invoke(root, _exports.OnContextCreate, root.Id, 0))
        {
            return $"proxy_on_context_create failed: {FailureReason}";
        }
        ConfiguringPlugin = plugin;
        try
        {
            VmStarting = true;
            if (_exports.OnVmStart is not null)
            {
                if (!Invoke(root, _exports.OnVmStart, root.Id, Group.VmConfiguration.Length, out int ok))
                {
                    return $"proxy_on_vm_start trapped: {FailureReason}";
                }
                if (ok == 0)
                {
                    return "proxy_on_vm_start returned false";
                }
            }
            VmStarting = false;
            if (_exports.OnConfigure is not null)
            {
                if (!Invoke(root, _exports.OnConfigure, root.Id, plugin.Configuration.Length, out int ok))
                {
                    return $"proxy_on_configure trapped: {FailureReason}";
                }
                if (ok == 0)
                {
                    return "proxy_on_configure returned false (configuration rejected by the plugin)";
                }
            }
        }
        finally
        {
            ConfiguringPlugin = null;
            VmStarting = false;
        }
        return null;
    }

    // ---- Stream phases (docs/proxy-wasm.md, 'Contexts and callbacks'). Each returns false when the VM failed; the caller applies the failure policy.

    public bool EnsureCreated(StreamContext context)
    {
        if (context.Created)
        {
            return true;
        }
        context.Created = true;
        return _exports.OnContextCreate is null || Invoke(context, _exports.OnContextCreate, context.Id, context.Root.Id);
    }

    public bool HasRequestHeaders => _exports.OnRequestHeaders is not null || _exports.OnRequestHeaders010 is not null;

    public bool HasRequestBody => _exports.OnRequestBody is not null;

    public bool HasResponseBody => _exports.OnResponseBody is not null;

    public bool HasRequestTrailers => _exports.OnRequestTrailers is not null;

    public bool HasResponseTrailers => _exports.OnResponseTrailers is not null;

    public bool OnRequestHeaders(StreamContext context, int count, bool endOfStream, out int action)
    {
        if (_exports.OnRequestHeaders is not null)
        {
            return Invoke(context, _exports.OnRequestHeaders, context.Id, count, endOfStream ? 1 : 0, out action);
        }
        if (_exports.OnRequestHeaders010 is not null)
        {
            return Invoke(context, _exports.OnRequestHeaders010, context.Id, count, out action);
        }
        action = 0;
        return !Failed;
    }

    public bool OnResponseHeaders(StreamContext context, int count, bool endOfStream, out int action)
    {
        if (_exports.OnResponseHeaders is not null)
        {
            return Invoke(context, _exports.OnResponseHeaders, context.Id, count, endOfStream ? 1 : 0, out action);
        }
        if (_exports.OnResponseHeaders010 is not null)
        {
            return Invoke(context, _exports.OnResponseHeaders010, context.Id, count, out action);
        }
        action = 0;
        return !Failed;
    }

    public bool OnBody(StreamContext context, bool request, int size, bool endOfStream, out int action)
    {
        var callback = request ? _exports.OnRequestBody : _exports.OnResponseBody;
        if (callback is null)
        {
            action = 0;
            return !Failed;
        }
        return Invoke(context, callback, context.Id, size, endOfStream ? 1 : 0, out action);
    }

    public bool OnTrailers(StreamContext context, bool request, int count, out int action)
    {
        var callback = request ? _exports.OnRequestTrailers : _exports.OnResponseTrailers;
        if (callback is null)
        {
            action = 0;
            return !Failed;
        }
        return Invoke(context, callback, context.Id, count, out action);
    }

    /// <summary>docs/proxy-wasm.md, 'Contexts and callbacks' B8–B10 in Envoy's order: log, done, delete; a context that was never created is created first.</summary>
    public void EndStream(StreamContext context)
    {
        if (!Failed && !context.Bypassed)
        {
            Phase = VmPhase.Log;
            bool ok = EnsureCreated(context)
                && (_exports.OnLog is null || Invoke(context, _exports.OnLog, context.Id))
                && (_exports.OnDone is null || Invoke(context, _exports.OnDone, context.Id, out _));
            Phase = VmPhase.Running;
            if (ok && _exports.OnDelete is not null)
            {
                Invoke(context, _exports.OnDelete, context.Id);
            }
        }
        context.Deleted = true;
        _contexts.Remove(context.Id);
        _streams--;
        context.ReleaseBodies();
        PendingCalls.DropCallsOf(context);
        RunDeferred();
        if (RebuildRequested && !Retired && !Failed)
        {
            // The plugin's own request (docs/proxy-wasm.md, 'Other imports'): the slot gets a fresh VM now; this one finishes its streams first.
            Worker.Slot(Group).Retire(this);
        }
        if (Retired && _streams == 0)
        {
            Dispose();
        }
    }

    /// <summary>Applies what imports queued during the last guest call (docs/proxy-wasm.md, 'Calls that wait'): stream moves and root deletions.</summary>
    public void RunDeferred()
    {
        while (_touched.Count > 0)
        {
            var context = _touched[^1];
            _touched.RemoveAt(_touched.Count - 1);
            if (context is StreamContext stream)
            {
                stream.Stream.ApplyControl(stream);
            }
        }
        while (_finishing.Count > 0 && !Failed)
        {
            var root = _finishing[^1];
            _finishing.RemoveAt(_finishing.Count - 1);
            DeleteRoot(root);
        }
    }

    private void DeleteRoot(RootContext root)
    {
        root.StopTick();
        Runtime.Queues.DropRegistrations(this, root);
        if (_exports.OnDelete is not null && !root.Deleted)
        {
            Invoke(root, _exports.OnDelete, root.Id);
        }
        root.Deleted = true;
        _contexts.Remove(root.Id);
    }

    /// <summary>Plugin shutdown (docs/proxy-wasm.md, 'Contexts and callbacks'): done, then delete, for every root still alive.</summary>
    private void ShutDownRoots()
    {
        foreach (var root in _roots.Values)
        {
            if (root.Deleted)
            {
                continue;
            }
            if (!Failed && _exports.OnDone is not null)
            {
                Invoke(root, _exports.OnDone, root.Id, out _);
            }
            if (!Failed)
            {
                DeleteRoot(root);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        if (!Failed && Phase == VmPhase.Running)
        {
            ShutDownRoots();
        }
        Release();
    }

    private void Release()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Failed = true;
        Output.Flush();
        foreach (var root in _roots.Values)
        {
            root.StopTick();
            Runtime.Queues.DropRegistrations(this, root);
        }
        PendingCalls.Clear();
        _touched.Clear();
        _finishing.Clear();
        _memory = null;
        _store.Dispose();
    }
}
