using Gateway.Plugins.Abi;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Shared;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Shared data and shared queues: key-value entries and queues shared by the VMs of one namespace.</summary>
internal static partial class HostFunctions
{
    private static void AddSharedState(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_get_shared_data", "iiiii", GetSharedData);
        Add(env, "proxy_set_shared_data", "iiiii", SetSharedData);
        Add(env, "proxy_register_shared_queue", "iii", RegisterSharedQueue);
        Add(env, "proxy_resolve_shared_queue", "iiiii", ResolveSharedQueue);
        Add(env, "proxy_enqueue_shared_queue", "iii", EnqueueSharedQueue);
        Add(env, "proxy_dequeue_shared_queue", "iii", DequeueSharedQueue);
    }

    private static WasmResult GetSharedData(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string key)
            || !GuestMemory.TryGetSpan(memory, args[4].AsInt32(), 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (!vm.Runtime.SharedData.TryGet(vm.Group.Namespace, key, out byte[] value, out uint cas))
        {
            return WasmResult.NotFound;
        }
        var status = GuestMemory.Return(vm, caller, value, args[2].AsInt32(), args[3].AsInt32());
        if (status == WasmResult.Ok && !GuestMemory.TryWriteUInt32(vm.GetMemory(caller), args[4].AsInt32(), cas))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        return status;
    }

    private static WasmResult SetSharedData(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string key)
            || !GuestMemory.TryReadBytes(memory, args[2].AsInt32(), args[3].AsInt32(), out byte[] value))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        long cap = vm.Group.Limits.SharedDataBytes;
        return vm.Runtime.SharedData.TrySet(vm.Group.Namespace, key, value, (uint)args[4].AsInt32(), cap) switch
        {
            SharedDataResult.Stored => WasmResult.Ok,
            SharedDataResult.CasMismatch => WasmResult.CasMismatch,
            _ => Refuse(vm, HostLimit.SharedData, $"shared data would exceed limits.sharedDataBytes ({cap})", WasmResult.InternalFailure),
        };
    }

    private static WasmResult RegisterSharedQueue(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string name)
            || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        var root = vm.Effective?.Root ?? vm.RootOf(vm.Group.Plugins[0]);
        uint id = vm.Runtime.Queues.Register(vm.Group.Namespace, name, root);
        GuestMemory.TryWriteUInt32(memory, args[2].AsInt32(), id);
        return WasmResult.Ok;
    }

    private static WasmResult ResolveSharedQueue(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string vmId)
            || !GuestMemory.TryReadUtf8(memory, args[2].AsInt32(), args[3].AsInt32(), out string name)
            || !GuestMemory.TryGetSpan(memory, args[4].AsInt32(), 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        // An empty vm_id is the caller's own namespace; a plugin's private namespace cannot be named by others.
        if ((vmId.Length > 0 && vmId[0] == '\0') || !vm.Runtime.Queues.TryResolve(vmId.Length == 0 ? vm.Group.Namespace : vmId, name, out uint id))
        {
            return WasmResult.NotFound;
        }
        GuestMemory.TryWriteUInt32(memory, args[4].AsInt32(), id);
        return WasmResult.Ok;
    }

    private static WasmResult EnqueueSharedQueue(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        if (!GuestMemory.TryReadBytes(vm.GetMemory(caller), args[1].AsInt32(), args[2].AsInt32(), out byte[] item))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        long cap = vm.Group.Limits.SharedQueueBytes;
        return vm.Runtime.Queues.Enqueue(vm.Group.Namespace, (uint)args[0].AsInt32(), item, cap) switch
        {
            QueueResult.Done => WasmResult.Ok,
            QueueResult.NotFound => WasmResult.NotFound,
            _ => Refuse(vm, HostLimit.SharedQueue, $"queued items would exceed limits.sharedQueueBytes ({cap})", WasmResult.InternalFailure),
        };
    }

    private static WasmResult DequeueSharedQueue(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryGetSpan(memory, args[1].AsInt32(), 4, out _) || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (vm.Runtime.Queues.TryDequeue(vm.Group.Namespace, (uint)args[0].AsInt32(), out byte[]? item) != QueueResult.Done)
        {
            return WasmResult.NotFound;
        }
        if (item is null)
        {
            return WasmResult.Empty;
        }
        return GuestMemory.Return(vm, caller, item, args[1].AsInt32(), args[2].AsInt32());
    }
}
