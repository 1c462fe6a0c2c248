using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Properties: typed facts about the stream, the connection and the plugin, read by path, and values a plugin stores for the others of its stream.</summary>
internal static partial class HostFunctions
{
    private static void AddProperties(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_get_property", "iiii", GetProperty);
        Add(env, "proxy_set_property", "iiii", SetProperty);
    }

    private static WasmResult GetProperty(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        if (!GuestMemory.TryGetSpan(vm.GetMemory(caller), args[0].AsInt32(), args[1].AsInt32(), out var pathBytes))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (!PropertyPath.TryNormalize(pathBytes, out string path))
        {
            return WasmResult.NotFound;
        }
        var status = Properties.TryGet(vm, path, out byte[] value);
        return status == WasmResult.Ok ? GuestMemory.Return(vm, caller, value, args[2].AsInt32(), args[3].AsInt32()) : status;
    }

    private static WasmResult SetProperty(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryGetSpan(memory, args[0].AsInt32(), args[1].AsInt32(), out var pathBytes))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        bool valid = PropertyPath.TryNormalize(pathBytes, out string path);
        if (!GuestMemory.TryReadBytes(memory, args[2].AsInt32(), args[3].AsInt32(), out byte[] value))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (vm.Effective is not StreamContext context)
        {
            // Outside a stream there is no property bag ([ENVOY], docs/proxy-wasm.md, 'Other imports').
            return WasmResult.NotFound;
        }
        if (!valid)
        {
            return WasmResult.BadArgument;
        }
        context.SetProperty(path, value);
        return WasmResult.Ok;
    }
}
