using System.Text.Json.Serialization;

namespace Gateway.Configuration;

/// <summary>
/// Config <c>plugins.&lt;name&gt;</c>. Records compare by value, so a reload can tell which plugins
/// changed (module or configuration) and must be re-created.
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

    public FailurePolicy FailurePolicy { get; init; } = FailurePolicy.Closed;

    /// <summary>A singleton runs as a background service on one worker and is never put on a route.</summary>
    public bool Singleton { get; init; }

    public PluginLimits Limits { get; init; } = new();

    /// <summary>Per Redis target: scripts and extra commands this plugin may run, and its own ACL identity.</summary>
    public PluginRedisAccess Redis { get; init; } = new();

    /// <summary>Variables the guest reads through WASI <c>environ_get</c>, in this order.</summary>
    public PluginEnvironment Environment { get; init; } = new();
}

/// <summary>What a request gets when its plugin traps or exceeds a limit (README, 'What a client sees when something goes wrong').</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FailurePolicy>))]
public enum FailurePolicy
{
    /// <summary>The request goes on without the plugin.</summary>
    [JsonStringEnumMemberName("open")] Open,
    /// <summary>The request fails with 500.</summary>
    [JsonStringEnumMemberName("closed")] Closed,
}

/// <summary>Config <c>plugins.&lt;name&gt;.limits</c>: what one plugin may cost the host.</summary>
public sealed record PluginLimits
{
    public long MemoryBytes { get; init; } = 64 * 1024 * 1024;
    public int CpuMillisecondsPerCall { get; init; } = 5;

    /// <summary>Wall-clock cap of one callback; 0 means cpuMillisecondsPerCall + 50.</summary>
    public int WallMillisecondsPerCall { get; init; }

    /// <summary>Most bytes one import takes in or produces (compress, uncompress, fd_write).</summary>
    public int HostCallBytes { get; init; } = 1024 * 1024;

    /// <summary>Bytes of keys and values in the plugin's shared-data namespace.</summary>
    public long SharedDataBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Bytes of items waiting in the plugin's shared queues.</summary>
    public long SharedQueueBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>http_calls one VM may have in flight.</summary>
    public int HttpCallsInFlight { get; init; } = 256;

    /// <summary>Metric series the plugin may define.</summary>
    public int MaxMetrics { get; init; } = 256;
}
