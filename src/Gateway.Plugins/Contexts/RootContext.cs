using Gateway.Plugins.Abi;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Contexts;

/// <summary>The root context of one plugin in one VM: owns its tick timer and its pending calls (docs/proxy-wasm.md, 'Loading and VMs').</summary>
internal sealed class RootContext(int id, PluginVm vm, PluginDefinition plugin) : ProxyContext(id, vm, plugin)
{
    public override RootContext Root => this;

    public TickTimer? Tick { get; private set; }

    /// <summary><c>proxy_set_tick_period_milliseconds</c>: a new period replaces the timer; 0 stops it.</summary>
    public void SetTickPeriod(int milliseconds)
    {
        StopTick();
        if (milliseconds > 0)
        {
            Tick = new TickTimer(this, milliseconds);
        }
    }

    public void StopTick()
    {
        Tick?.Dispose();
        Tick = null;
    }

    /// <summary>The root answered 0 to <c>proxy_on_done</c> and may finish with <c>proxy_done</c> (docs/proxy-wasm.md, 'Contexts and callbacks').</summary>
    public bool AwaitingDone { get; set; }

    /// <summary>Per-call timeouts the plugin gave <c>proxy_redis_init</c>, by target name.</summary>
    public Dictionary<string, int> RedisTimeouts { get; } = new(StringComparer.Ordinal);

    /// <summary>Databases the plugin chose with <c>?db=N</c> in <c>proxy_redis_init</c> (and the target allows), by target name.</summary>
    public Dictionary<string, int> RedisDatabases { get; } = new(StringComparer.Ordinal);
}
