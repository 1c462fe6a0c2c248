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

/// <summary>The root context of one plugin in one VM: owns its tick timer and its pending calls (docs/proxy-wasm.md, 'Loading and VMs').</summary>
internal sealed class RootContext(int id, PluginVm vm, PluginDefinition plugin) : ProxyContext(id, vm, plugin)
{
    public override RootContext Root => this;

    public TickTimer? Tick { get; set; }

    /// <summary>The root answered 0 to <c>proxy_on_done</c> and may finish with <c>proxy_done</c> (docs/proxy-wasm.md, 'Contexts and callbacks').</summary>
    public bool AwaitingDone { get; set; }

    /// <summary>Per-call timeouts the plugin gave <c>proxy_redis_init</c>, by target name.</summary>
    public Dictionary<string, int> RedisTimeouts { get; } = new(StringComparer.Ordinal);

    /// <summary>Databases the plugin chose with <c>?db=N</c> in <c>proxy_redis_init</c> (and the target allows), by target name.</summary>
    public Dictionary<string, int> RedisDatabases { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One plugin's view of one HTTP exchange: its stream context (created in the guest lazily, at request headers),
/// its body buffers, and what it asked the host to do with the stream from inside a guest call.
/// </summary>
internal sealed class StreamContext(int id, PluginVm vm, PluginDefinition plugin, RootContext root, PluginStream stream, int index)
    : ProxyContext(id, vm, plugin)
{
    public override RootContext Root { get; } = root;

    public PluginStream Stream { get; } = stream;

    /// <summary>Position of this plugin in the route's chain.</summary>
    public int Index { get; } = index;

    /// <summary><c>proxy_on_context_create</c> ran for this id.</summary>
    public bool Created { get; set; }

    /// <summary>The plugin failed (trap, limit) with failure policy open: the stream goes on without it.</summary>
    public bool Bypassed { get; set; }

    public BodyBuffer RequestBody { get; } = new();

    public BodyBuffer ResponseBody { get; } = new();

    /// <summary><c>proxy_continue_stream</c> requests not yet applied (docs/proxy-wasm.md, 'Calls that wait': applied after the guest call returns).</summary>
    public bool ContinueRequest { get; set; }

    public bool ContinueResponse { get; set; }
}
