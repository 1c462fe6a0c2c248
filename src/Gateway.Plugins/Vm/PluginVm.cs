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
    private readonly ulong _cpuTicks;
    private ulong _deadlineTicks;
    private readonly Dictionary<int, ProxyContext> _contexts = [];
    private readonly Dictionary<PluginDefinition, RootContext> _roots = [];
    private readonly List<ProxyContext> _touched = [];
    private readonly List<RootContext> _finishing = [];
    private Memory? _memory;
    private int _nextContextId = 1;
    private int _streams;
    private uint _nextToken = 1;
    private bool _inGuest;
    private bool _disposed;

    private Func<int, int>? _allocate;
    private Action<int, int>? _onContextCreate;
    private Func<int, int, int>? _onVmStart;
    private Func<int, int, int>? _onConfigure;
    private Action<int>? _onTick;
    private Action<int, int>? _onQueueReady;
    private Func<int, int, int, int>? _onRequestHeaders;
    private Func<int, int, int>? _onRequestHeaders010;
    private Func<int, int, int, int>? _onRequestBody;
    private Func<int, int, int>? _onRequestTrailers;
    private Func<int, int, int, int>? _onResponseHeaders;
    private Func<int, int, int>? _onResponseHeaders010;
    private Func<int, int, int, int>? _onResponseBody;
    private Func<int, int, int>? _onResponseTrailers;
    private Action<int>? _onLog;
    private Func<int, int>? _onDone;
    private Action<int>? _onDelete;
    private Action<int, int, int, int, int>? _onHttpCallResponse;
    private Action<int, int, int, int>? _onRedisCallResponse;
    private Action<int, int, int, int, int>? _onSqlCallResponse;

    private PluginVm(VmGroup group, WorkerPlugins worker)
    {
        Group = group;
        Worker = worker;
        _cpuTicks = (ulong)Math.Max(1, group.Limits.CpuMillisecondsPerCall) * EpochTicker.TicksPerMillisecond + 1;
        _store = new Store(group.Engine.Engine, this);
        _store.SetLimits(memorySize: group.Limits.MemoryBytes);
        _store.SetEpochDeadlineCallback(OnEpochDeadline);
        Phase = VmPhase.Startup;
        _deadlineTicks = (ulong)StartupBudgetMilliseconds * EpochTicker.TicksPerMillisecond;
        _store.SetEpochDeadline(_deadlineTicks);
        group.Engine.Ticker.Expect(StartupBudgetMilliseconds);
    }

    private void Instantiate()
    {
        _cpuStart = ThreadCpuClock.NowNanoseconds();
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
    public ProxyContext? Effective { get; set; }

    /// <summary>The root whose configuration is readable as buffer 7 (inside <c>proxy_on_configure</c>) or 6 (inside <c>proxy_on_vm_start</c>).</summary>
    public PluginDefinition? ConfiguringPlugin { get; private set; }

    /// <summary>Inside <c>proxy_on_vm_start</c>: 0.1.0's <c>proxy_get_configuration</c> returns the VM configuration.</summary>
    public bool VmStarting { get; private set; }

    /// <summary>Completion data readable only during its callback (docs/proxy-wasm.md, 'Calls that wait').</summary>
    public HttpCallResult? HttpCallResponse { get; private set; }

    public byte[]? RedisReply { get; private set; }

    public byte[]? SqlBody { get; private set; }

    /// <summary>What <c>proxy_get_status</c> reports inside a completion callback.</summary>
    public (int Code, string Message) CallStatus { get; private set; } = (0, "");

    public Dictionary<uint, PendingCall> PendingCalls { get; } = [];

    /// <summary>The exported linear memory; during the start section it is only reachable through the caller.</summary>
    public Memory GetMemory(Caller caller) =>
        _memory ??= caller.GetMemory("memory") ?? throw new InvalidOperationException("module has no exported memory");

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

    public RootContext RootOf(PluginDefinition plugin) => _roots[plugin];

    public bool HasRoot(PluginDefinition plugin) => _roots.ContainsKey(plugin);

    public bool TryGetContext(int id, out ProxyContext? context) => _contexts.TryGetValue(id, out context);

    public bool Exports(string name) => Group.Module.Exports.Contains(name);

    /// <summary>Hands out an id for the next context (docs/proxy-wasm.md, 'Loading and VMs': one monotonic counter per instance, never 0).</summary>
    public StreamContext NewStreamContext(PluginDefinition plugin, PluginStream stream, int index)
    {
        var context = new StreamContext(_nextContextId++, this, plugin, _roots[plugin], stream, index);
        _contexts.Add(context.Id, context);
        _streams++;
        return context;
    }

    /// <summary>The plugin asked to be rebuilt (Higress <c>wasm_need_rebuild</c>, docs/proxy-wasm.md, 'Other imports').</summary>
    public bool RebuildRequested { get; set; }

    /// <summary>Replaced in its slot; disposed once its last stream ends.</summary>
    public bool Retired { get; set; }

    /// <summary>Token for an asynchronous call, unique among the calls still pending (docs/proxy-wasm.md, 'Calls that wait').</summary>
    public uint NextToken()
    {
        do
        {
            _nextToken = _nextToken == uint.MaxValue ? 1 : _nextToken + 1;
        }
        while (PendingCalls.ContainsKey(_nextToken));
        return _nextToken;
    }

    /// <summary>Remembers that a stream-moving import ran; the stream is moved after the guest call returns (docs/proxy-wasm.md, 'Calls that wait').</summary>
    public void Touch(ProxyContext context)
    {
        if (!_touched.Contains(context))
        {
            _touched.Add(context);
        }
    }

    /// <summary><c>proxy_done</c>: the root is deleted after the current guest call (docs/proxy-wasm.md, 'Contexts and callbacks' C2).</summary>
    public void FinishRoot(RootContext root)
    {
        root.AwaitingDone = false;
        _finishing.Add(root);
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
            return _allocate!(size);
        }
        finally
        {
            (Current, Effective, Phase) = (current, effective, phase);
        }
    }

    private string? Start()
    {
        var instance = _instance!;
        _allocate = instance.GetFunction<int, int>("proxy_on_memory_allocate") ?? instance.GetFunction<int, int>("malloc");
        if (_allocate is null)
        {
            return "missing malloc: neither proxy_on_memory_allocate nor malloc has type (i32) -> i32";
        }
        ResolveCallbacks(instance);

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
        _deadlineTicks = _cpuTicks;
        return null;
    }

    /// <summary>docs/proxy-wasm.md, 'Contexts and callbacks' A2–A4 for one plugin: create its root, <c>proxy_on_vm_start</c>, <c>proxy_on_configure</c>.</summary>
    private string? StartRoot(PluginDefinition plugin)
    {
        var root = new RootContext(_nextContextId++, this, plugin);
        _contexts.Add(root.Id, root);
        _roots.Add(plugin, root);
        Phase = VmPhase.Configure;
        if (_onContextCreate is not null && !Invoke(root, _onContextCreate, root.Id, 0))
        {
            return $"proxy_on_context_create failed: {FailureReason}";
        }
        ConfiguringPlugin = plugin;
        try
        {
            VmStarting = true;
            if (_onVmStart is not null)
            {
                if (!Invoke(root, _onVmStart, root.Id, Group.VmConfiguration.Length, out int ok))
                {
                    return $"proxy_on_vm_start trapped: {FailureReason}";
                }
                if (ok == 0)
                {
                    return "proxy_on_vm_start returned false";
                }
            }
            VmStarting = false;
            if (_onConfigure is not null)
            {
                if (!Invoke(root, _onConfigure, root.Id, plugin.Configuration.Length, out int ok))
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

    private void ResolveCallbacks(Instance instance)
    {
        _onContextCreate = instance.GetAction<int, int>("proxy_on_context_create");
        _onVmStart = instance.GetFunction<int, int, int>("proxy_on_vm_start");
        _onConfigure = instance.GetFunction<int, int, int>("proxy_on_configure");
        _onTick = instance.GetAction<int>("proxy_on_tick");
        _onQueueReady = instance.GetAction<int, int>("proxy_on_queue_ready");
        if (Abi == AbiVersion.V0_1_0)
        {
            _onRequestHeaders010 = instance.GetFunction<int, int, int>("proxy_on_request_headers");
            _onResponseHeaders010 = instance.GetFunction<int, int, int>("proxy_on_response_headers");
        }
        else
        {
            _onRequestHeaders = instance.GetFunction<int, int, int, int>("proxy_on_request_headers");
            _onResponseHeaders = instance.GetFunction<int, int, int, int>("proxy_on_response_headers");
        }
        _onRequestBody = instance.GetFunction<int, int, int, int>("proxy_on_request_body");
        _onRequestTrailers = instance.GetFunction<int, int, int>("proxy_on_request_trailers");
        _onResponseBody = instance.GetFunction<int, int, int, int>("proxy_on_response_body");
        _onResponseTrailers = instance.GetFunction<int, int, int>("proxy_on_response_trailers");
        _onLog = instance.GetAction<int>("proxy_on_log");
        _onDone = instance.GetFunction<int, int>("proxy_on_done");
        _onDelete = instance.GetAction<int>("proxy_on_delete");
        _onHttpCallResponse = instance.GetAction<int, int, int, int, int>("proxy_on_http_call_response");
        _onRedisCallResponse = instance.GetAction<int, int, int, int>("proxy_on_redis_call_response");
        _onSqlCallResponse = instance.GetAction<int, int, int, int, int>("proxy_on_sql_call_response");

        // docs/proxy-wasm.md, 'Loading and VMs': an export with an unexpected type is treated as absent, with a warning.
        WarnIfMistyped("proxy_on_request_headers", Abi == AbiVersion.V0_1_0 ? _onRequestHeaders010 : _onRequestHeaders);
        WarnIfMistyped("proxy_on_response_headers", Abi == AbiVersion.V0_1_0 ? _onResponseHeaders010 : _onResponseHeaders);
        WarnIfMistyped("proxy_on_request_body", _onRequestBody);
        WarnIfMistyped("proxy_on_response_body", _onResponseBody);
        WarnIfMistyped("proxy_on_context_create", _onContextCreate);
        WarnIfMistyped("proxy_on_http_call_response", _onHttpCallResponse);
    }

    private void WarnIfMistyped(string name, Delegate? resolved)
    {
        if (resolved is null && Exports(name))
        {
            PluginLog.CallbackMistyped(Group.Logger, Group.Name, name);
        }
    }

    // ---- Stream phases (docs/proxy-wasm.md, 'Contexts and callbacks'). Each returns false when the VM failed; the caller applies the failure policy.

    public bool EnsureCreated(StreamContext context)
    {
        if (context.Created)
        {
            return true;
        }
        context.Created = true;
        return _onContextCreate is null || Invoke(context, _onContextCreate, context.Id, context.Root.Id);
    }

    public bool HasRequestHeaders => _onRequestHeaders is not null || _onRequestHeaders010 is not null;

    public bool HasRequestBody => _onRequestBody is not null;

    public bool HasResponseBody => _onResponseBody is not null;

    public bool HasRequestTrailers => _onRequestTrailers is not null;

    public bool HasResponseTrailers => _onResponseTrailers is not null;

    public bool OnRequestHeaders(StreamContext context, int count, bool endOfStream, out int action)
    {
        if (_onRequestHeaders is not null)
        {
            return Invoke(context, _onRequestHeaders, context.Id, count, endOfStream ? 1 : 0, out action);
        }
        if (_onRequestHeaders010 is not null)
        {
            return Invoke(context, _onRequestHeaders010, context.Id, count, out action);
        }
        action = 0;
        return !Failed;
    }

    public bool OnResponseHeaders(StreamContext context, int count, bool endOfStream, out int action)
    {
        if (_onResponseHeaders is not null)
        {
            return Invoke(context, _onResponseHeaders, context.Id, count, endOfStream ? 1 : 0, out action);
        }
        if (_onResponseHeaders010 is not null)
        {
            return Invoke(context, _onResponseHeaders010, context.Id, count, out action);
        }
        action = 0;
        return !Failed;
    }

    public bool OnBody(StreamContext context, bool request, int size, bool endOfStream, out int action)
    {
        var callback = request ? _onRequestBody : _onResponseBody;
        if (callback is null)
        {
            action = 0;
            return !Failed;
        }
        return Invoke(context, callback, context.Id, size, endOfStream ? 1 : 0, out action);
    }

    public bool OnTrailers(StreamContext context, bool request, int count, out int action)
    {
        var callback = request ? _onRequestTrailers : _onResponseTrailers;
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
                && (_onLog is null || Invoke(context, _onLog, context.Id))
                && (_onDone is null || Invoke(context, _onDone, context.Id, out _));
            Phase = VmPhase.Running;
            if (ok && _onDelete is not null)
            {
                Invoke(context, _onDelete, context.Id);
            }
        }
        context.Deleted = true;
        _contexts.Remove(context.Id);
        _streams--;
        context.RequestBody.Release();
        context.ResponseBody.Release();
        DropCallsOf(context);
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

    // ---- Completions, ticks and queues: always named by the root context (docs/proxy-wasm.md, 'Contexts and callbacks'), posted to this worker.

    public void DeliverHttpCallResponse(uint token, HttpCallResult result)
    {
        if (!TakePending(token, out var call))
        {
            return;
        }
        HttpCallResponse = result;
        CallStatus = result.Succeeded ? (0, "") : ((int)WasmResult.BrokenConnection, "reset");
        try
        {
            if (_onHttpCallResponse is not null)
            {
                int headers = result.Succeeded && result.Response is not null ? result.Response.Headers.Count + 1 : 0;
                Invoke(call.Root, _onHttpCallResponse, call.Root.Id, (int)token, headers, result.Succeeded ? result.Body.Length : 0, 0);
            }
        }
        finally
        {
            HttpCallResponse = null;
            CallStatus = (0, "");
        }
        RunDeferred();
    }

    public void DeliverRedisReply(uint token, Gateway.Backends.Redis.RedisReply reply)
    {
        if (!TakePending(token, out var call))
        {
            return;
        }
        bool ok = reply.Status == Gateway.Backends.Redis.RedisCallStatus.Ok;
        RedisReply = ok ? reply.Resp : [];
        CallStatus = ok ? (0, "") : ((int)WasmResult.BrokenConnection, "reset");
        try
        {
            if (_onRedisCallResponse is not null)
            {
                Invoke(call.Root, _onRedisCallResponse, call.Root.Id, (int)token, (int)reply.Status, RedisReply.Length);
            }
        }
        finally
        {
            RedisReply = null;
            CallStatus = (0, "");
        }
        RunDeferred();
    }

    public void DeliverSqlResult(uint token, Gateway.Backends.Sql.SqlResult result)
    {
        if (!TakePending(token, out var call))
        {
            return;
        }
        SqlBody = result.Body;
        try
        {
            if (_onSqlCallResponse is not null)
            {
                int rows = result.Status == Gateway.Backends.Sql.SqlCallStatus.Ok ? result.RowCount : 0;
                Invoke(call.Root, _onSqlCallResponse, call.Root.Id, (int)token, (int)result.Status, rows, result.Body.Length);
            }
        }
        finally
        {
            SqlBody = null;
        }
        RunDeferred();
    }

    public void DeliverTick(RootContext root)
    {
        if (Failed || root.Deleted || _onTick is null)
        {
            return;
        }
        Invoke(root, _onTick, root.Id);
        RunDeferred();
    }

    public void DeliverQueueReady(RootContext root, uint queueId)
    {
        if (Failed || root.Deleted || _onQueueReady is null)
        {
            return;
        }
        Invoke(root, _onQueueReady, root.Id, (int)queueId);
        RunDeferred();
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

    private bool TakePending(uint token, out PendingCall call)
    {
        if (Failed || !PendingCalls.Remove(token, out call!))
        {
            call = null!;
            return false;
        }
        return !call.Root.Deleted && !call.Dropped;
    }

    /// <summary>Completions of calls a finished stream started are dropped, never delivered (PluginStream.Complete).</summary>
    private void DropCallsOf(StreamContext context)
    {
        if (PendingCalls.Count == 0)
        {
            return;
        }
        foreach (var call in PendingCalls.Values)
        {
            if (call.Origin == context)
            {
                call.Dropped = true;
            }
        }
    }

    private void DeleteRoot(RootContext root)
    {
        root.Tick?.Dispose();
        root.Tick = null;
        Runtime.Queues.DropRegistrations(this, root);
        if (_onDelete is not null && !root.Deleted)
        {
            Invoke(root, _onDelete, root.Id);
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
            if (!Failed && _onDone is not null)
            {
                Invoke(root, _onDone, root.Id, out _);
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
            root.Tick?.Dispose();
            root.Tick = null;
            Runtime.Queues.DropRegistrations(this, root);
        }
        PendingCalls.Clear();
        _touched.Clear();
        _finishing.Clear();
        _memory = null;
        _store.Dispose();
    }
}

/// <summary>Where a VM is in its life; some imports are restricted by it (docs/proxy-wasm.md, 'Loading and VMs' and 'Buffers').</summary>
internal enum VmPhase
{
    /// <summary>Start functions run; only logging and WASI are allowed (docs/proxy-wasm.md, 'Loading and VMs').</summary>
    Startup,
    /// <summary>Root contexts are created and configured.</summary>
    Configure,
    Running,
    Log,
    Allocating,
}

/// <summary>An asynchronous call in flight: the root it belongs to and the stream that started it.</summary>
internal sealed class PendingCall(RootContext root, StreamContext? origin)
{
    public RootContext Root { get; } = root;

    public StreamContext? Origin { get; } = origin;

    /// <summary>The originating stream finished; the completion is dropped.</summary>
    public bool Dropped { get; set; }
}
