using Gateway.Plugins.Abi;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Context control: which context the following imports act on, and a root's late <c>proxy_done</c>.</summary>
internal static partial class HostFunctions
{
    private static void AddContexts(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_set_effective_context", "i", (vm, c, a) => vm.TrySetEffective(a[0].AsInt32()) ? WasmResult.Ok : WasmResult.BadArgument);
        Add(env, "proxy_done", "", (vm, c, a) => vm.TryFinishEffectiveRoot() ? WasmResult.Ok : WasmResult.NotFound);
    }
}
