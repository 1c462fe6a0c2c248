using System.Text.Json.Serialization;

namespace Gateway.Plugins.Runtime;

/// <summary>
/// What a request gets when its plugin traps or hits a limit (config <c>plugins.&lt;name&gt;.failurePolicy</c>; README, 'What a
/// client sees when something goes wrong').
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<FailurePolicy>))]
public enum FailurePolicy
{
    /// <summary>The request goes on without the plugin.</summary>
    [JsonStringEnumMemberName("open")] Open,
    /// <summary>The request is answered with 500.</summary>
    [JsonStringEnumMemberName("closed")] Closed,
}

/// <summary>Per-VM isolation limits (config <c>plugins.&lt;name&gt;.limits</c>, bound as is).</summary>
public sealed record PluginLimits
{
    /// <summary>Cap on the VM's linear memory; growth beyond it fails inside the guest.</summary>
    public long MemoryBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>CPU budget of one host → guest call, enforced by epoch interruption; time inside imports counts.</summary>
    public int CpuMillisecondsPerCall { get; init; } = 5;

    /// <summary>
    /// Wall-clock cap of one call, preemption and blocking included: the longest a callback can hold up its worker.
    /// 0 means the CPU budget plus 50 ms.
    /// </summary>
    public int WallMillisecondsPerCall { get; init; }

    /// <summary>The effective wall-clock cap; derived, so no config key.</summary>
    [JsonIgnore]
    public int WallCapMilliseconds => WallMillisecondsPerCall > 0 ? WallMillisecondsPerCall : CpuMillisecondsPerCall + 50;

    /// <summary>Most bytes one import may take in or produce (compress, uncompress, fd_write): bounds the host work of one call.</summary>
    public int HostCallBytes { get; init; } = 1024 * 1024;

    /// <summary>Bytes of shared data (keys and values) one shared-data namespace may hold.</summary>
    public long SharedDataBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Bytes of queued items one shared-queue namespace may hold.</summary>
    public long SharedQueueBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary><c>proxy_http_call</c>s one VM may have in flight.</summary>
    public int HttpCallsInFlight { get; init; } = 256;

    /// <summary>Metric series one plugin may define.</summary>
    public int MaxMetrics { get; init; } = 256;
}

/// <summary>
/// One entry of config <c>plugins</c> (README, 'Configuration reference'), already resolved by the config loader; owns the
/// defaults the config record uses.
/// </summary>
public sealed record PluginOptions
{
    public const FailurePolicy DefaultFailurePolicy = FailurePolicy.Closed;

    public required string Name { get; init; }

    /// <summary>Absolute path of the <c>.wasm</c> file.</summary>
    public required string ModulePath { get; init; }

    /// <summary>Plugin configuration, handed to the guest byte for byte as UTF-8 (buffer type 7).</summary>
    public string Configuration { get; init; } = "";

    /// <summary>VM configuration (buffer type 6).</summary>
    public string VmConfiguration { get; init; } = "";

    /// <summary>Which root context of the module serves this plugin (Envoy <c>root_id</c>).</summary>
    public string RootId { get; init; } = "";

    /// <summary>Plugins with the same VM id and module share one VM per worker, and shared data and queues.</summary>
    public string VmId { get; init; } = "";

    public FailurePolicy FailurePolicy { get; init; } = DefaultFailurePolicy;

    /// <summary>Runs as a background service on one worker instead of on routes (Envoy's wasm service).</summary>
    public bool Singleton { get; init; }

    public PluginLimits Limits { get; init; } = new();

    /// <summary>Environment variables the guest may read through WASI; the gateway's own environment is never exposed.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Equal field by field, the environment by content: a reload keeps a plugin's VM only when this holds.</summary>
    public bool Equals(PluginOptions? other) =>
        other is not null
        && Name == other.Name
        && ModulePath == other.ModulePath
        && Configuration == other.Configuration
        && VmConfiguration == other.VmConfiguration
        && RootId == other.RootId
        && VmId == other.VmId
        && FailurePolicy == other.FailurePolicy
        && Singleton == other.Singleton
        && Limits == other.Limits
        && SameEnvironment(Environment, other.Environment);

    public override int GetHashCode() => HashCode.Combine(Name, ModulePath, Configuration, VmConfiguration, RootId, VmId, Limits);

    private static bool SameEnvironment(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }
        foreach (var (name, value) in a)
        {
            if (!b.TryGetValue(name, out var other) || other != value)
            {
                return false;
            }
        }
        return true;
    }
}
