using System.Text.Json.Serialization;
using Gateway.Plugins.Runtime;

namespace Gateway.Configuration;

/// <summary>
/// Config <c>plugins.&lt;name&gt;</c>. Records compare by value, so a reload can tell which plugins
/// changed (module or configuration) and must be re-created. Defaults are <see cref="PluginOptions"/>'s; the
/// limits bind to the plugin layer's own record.
/// </summary>
public sealed record PluginConfig
{
    /// <summary>The <c>.wasm</c> path as written; relative paths are against the config file's folder.</summary>
    public required string Module { get; init; }

    /// <summary>Absolute path of <see cref="Module"/>, set by the loader.</summary>
    [JsonIgnore]
    public string ModulePath { get; init; } = "";

    /// <summary>
    /// Passed to <c>proxy_on_configure</c> byte for byte (docs/proxy-wasm.md): a JSON string gives its exact
    /// value, an object or array its compact JSON text; absent gives "".
    /// </summary>
    public string Configuration { get; init; } = "";

    /// <summary>Passed to <c>proxy_on_vm_start</c>, by the same rule as <see cref="Configuration"/>.</summary>
    public string VmConfiguration { get; init; } = "";

    /// <summary>Which root context of the module serves this plugin (Envoy's <c>root_id</c>).</summary>
    public string RootId { get; init; } = "";

    /// <summary>Plugins with the same module and vmId share one VM per worker, and their shared data and queues.</summary>
    public string VmId { get; init; } = "";

    public FailurePolicy FailurePolicy { get; init; } = PluginOptions.DefaultFailurePolicy;

    /// <summary>A singleton runs as a background service on one worker and is never put on a route.</summary>
    public bool Singleton { get; init; }

    public PluginLimits Limits { get; init; } = new();

    /// <summary>Per Redis target: scripts and extra commands this plugin may run, and its own ACL identity.</summary>
    public PluginRedisAccess Redis { get; init; } = new();

    /// <summary>Variables the guest reads through WASI <c>environ_get</c>, in this order.</summary>
    public PluginEnvironment Environment { get; init; } = new();
}
