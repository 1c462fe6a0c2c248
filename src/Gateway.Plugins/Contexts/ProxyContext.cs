using Gateway.Plugins.Abi;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Contexts;

/// <summary>A proxy-wasm context of one VM (docs/proxy-wasm.md, 'Loading and VMs'): a root context per plugin, or a stream context per request.</summary>
internal abstract class ProxyContext(int id, PluginVm vm, PluginDefinition plugin)
{
    public int Id { get; } = id;

    public PluginVm Vm { get; } = vm;

    public PluginDefinition Plugin { get; } = plugin;

    /// <summary>Set once <c>proxy_on_delete</c> ran; nothing may name the id afterwards (docs/proxy-wasm.md, 'Contexts and callbacks' B10).</summary>
    public bool Deleted { get; set; }

    public abstract RootContext Root { get; }
}
