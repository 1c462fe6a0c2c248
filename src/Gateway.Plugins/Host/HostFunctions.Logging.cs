using Gateway.Plugins.Abi;
using Gateway.Plugins.Vm;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Logging, time and the tick timer: the guest writes to its plugin's log, reads the wall clock, and sets its root's tick period.</summary>
internal static partial class HostFunctions
{
    private static void AddLogging(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_log", "iii", ProxyLog, restricted: false);
        Add(env, "proxy_get_log_level", "i", (vm, c, a) =>
            GuestMemory.TryWriteUInt32(vm.GetMemory(c), a[0].AsInt32(), (uint)vm.ActingPlugin.ProxyWasmLogLevel()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess);
        Add(env, "proxy_get_current_time_nanoseconds", "i", (vm, c, a) =>
            GuestMemory.TryWriteUInt64(vm.GetMemory(c), a[0].AsInt32(), UnixNanoseconds()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess);
        Add(env, "proxy_set_tick_period_milliseconds", "i", SetTickPeriod);
    }

    private static WasmResult ProxyLog(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        int level = args[0].AsInt32();
        if ((uint)level > 5)
        {
            return WasmResult.BadArgument;
        }
        var plugin = vm.ActingPlugin;
        var logLevel = (LogLevel)level;
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryGetSpan(memory, args[1].AsInt32(), args[2].AsInt32(), out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (plugin.GuestLog.IsEnabled(logLevel))
        {
            // Only the part a record can keep is decoded: a huge message must not cost a huge string.
            int length = Math.Min(args[2].AsInt32(), Logging.GuestLog.MaxMessageChars);
            GuestMemory.TryReadUtf8(memory, args[1].AsInt32(), length, out string message);
            plugin.GuestLog.Write(logLevel, message, args[2].AsInt32());
        }
        return WasmResult.Ok;
    }

    private static WasmResult SetTickPeriod(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        if (vm.Effective is not { } context)
        {
            return WasmResult.BadArgument;
        }
        context.Root.SetTickPeriod(args[0].AsInt32());
        return WasmResult.Ok;
    }
}
