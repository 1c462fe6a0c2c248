using Gateway.Plugins.Abi;
using Gateway.Plugins.Metrics;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Guest metrics: define a counter, gauge or histogram by name, then update or read it by id.</summary>
internal static partial class HostFunctions
{
    private static void AddMetrics(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_define_metric", "iiii", DefineMetric);
        Add(env, "proxy_increment_metric", "iI", (vm, c, a) => UpdateMetric(vm, a[0].AsInt32(), a[1].AsInt64(), increment: true));
        Add(env, "proxy_record_metric", "iI", (vm, c, a) => UpdateMetric(vm, a[0].AsInt32(), a[1].AsInt64(), increment: false));
        Add(env, "proxy_get_metric", "ii", GetMetric);
    }

    private static GuestMetrics MetricsOf(PluginVm vm) => vm.ActingPlugin.Metrics;

    private static WasmResult DefineMetric(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        int type = args[0].AsInt32();
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[1].AsInt32(), args[2].AsInt32(), out string name))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if ((uint)type > GuestMetrics.Histogram)
        {
            return WasmResult.BadArgument;
        }
        var plugin = vm.ActingPlugin;
        int id = MetricsOf(vm).Define(type, plugin.Name, name, vm.Group.Limits.MaxMetrics);
        if (id < 0)
        {
            return Refuse(vm, HostLimit.Metrics, $"metric '{Printable(name)}' exceeds limits.maxMetrics or was defined with another type");
        }
        return GuestMemory.TryWriteUInt32(memory, args[3].AsInt32(), (uint)id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    }

    private static WasmResult UpdateMetric(PluginVm vm, int id, long value, bool increment)
    {
        if (MetricsOf(vm).Find(id) is not { } metric)
        {
            return WasmResult.NotFound;
        }
        if (!increment)
        {
            metric.Record(value);
            return WasmResult.Ok;
        }
        return metric.TryIncrement(value) ? WasmResult.Ok : WasmResult.BadArgument;
    }

    private static WasmResult GetMetric(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        if (!GuestMemory.TryGetSpan(vm.GetMemory(caller), args[1].AsInt32(), 8, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (MetricsOf(vm).Find(args[0].AsInt32()) is not { } metric)
        {
            return WasmResult.NotFound;
        }
        if (metric.Type == GuestMetrics.Histogram)
        {
            return WasmResult.BadArgument;
        }
        return GuestMemory.TryWriteUInt64(vm.GetMemory(caller), args[1].AsInt32(), (ulong)metric.Value)
            ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    }
}
