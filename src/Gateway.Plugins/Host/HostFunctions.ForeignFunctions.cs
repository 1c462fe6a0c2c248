using System.Buffers.Binary;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Logging;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Foreign functions: the few Higress and Envoy extras a plugin calls by name (compression, the log level, an event-loop knob).</summary>
internal static partial class HostFunctions
{
    private static void AddForeignFunctions(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_call_foreign_function", "iiiiii", CallForeignFunction);
    }

    private static WasmResult CallForeignFunction(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string name)
            || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), args[3].AsInt32(), out var input))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        int cap = vm.Group.Limits.HostCallBytes;
        if (name is "compress" or "uncompress" && input.Length > cap)
        {
            return Refuse(vm, HostLimit.HostCallBytes, $"{name} input of {input.Length} bytes exceeds limits.hostCallBytes");
        }
        byte[]? output;
        try
        {
            switch (name)
            {
                case "compress":
                    output = BoundedZlib.Compress(input, cap);
                    break;
                case "uncompress":
                    output = BoundedZlib.Uncompress(input, cap);
                    break;
                case "get_log_level":
                    // Higress: the plugin's level as a little-endian u32; without it its Go SDK formats every call at trace.
                    output = new byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(output, (uint)vm.ActingPlugin.ProxyWasmLogLevel());
                    break;
                case "set_global_max_requests_per_io_cycle":
                    // Higress tunes Envoy's event loop with it; the gateway has no such knob, so it is accepted.
                    output = [];
                    break;
                default:
                    var plugin = vm.ActingPlugin;
                    if (plugin.FirstCallOfUnknownForeignFunction(name))
                    {
                        PluginLog.UnknownForeignFunction(plugin.Logger, plugin.Name, name);
                    }
                    return WasmResult.NotFound;
            }
        }
        catch (InvalidDataException)
        {
            return WasmResult.SerializationFailure;
        }
        if (output is null)
        {
            return Refuse(vm, HostLimit.HostCallBytes, $"{name} output exceeds limits.hostCallBytes");
        }
        return GuestMemory.Return(vm, caller, output, args[4].AsInt32(), args[5].AsInt32());
    }
}
