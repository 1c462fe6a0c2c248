using System.Text;
using Gateway.Plugins.Logging;
using Gateway.Plugins.Metrics;
using Gateway.Plugins.Vm;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Runtime;

/// <summary>One configured plugin, process-wide: its options, compiled module, metrics and failure counters.</summary>
internal sealed class PluginDefinition
{
    public PluginDefinition(PluginOptions options, VmGroup group, ILogger logger, PluginSeries series)
    {
        Metrics = series.Guest;
        Counters = series.Counters;
        Refusals = series.Refusals;
        Options = options;
        Group = group;
        Logger = logger;
        GuestLog = new GuestLog(logger, options.Name);
        Configuration = Encoding.UTF8.GetBytes(options.Configuration);
    }

    public PluginOptions Options { get; }

    public string Name => Options.Name;

    public VmGroup Group { get; }

    /// <summary>Logger named after the plugin, so guest log lines are tagged with it.</summary>
    public ILogger Logger { get; }

    /// <summary>What the guest logs, capped and rate-limited.</summary>
    public GuestLog GuestLog { get; }

    /// <summary>Buffer type 7, byte for byte (docs/proxy-wasm.md).</summary>
    public byte[] Configuration { get; }

    /// <summary>The series below live for the process (<see cref="PluginMetrics"/>): a reload keeps counting on them.</summary>
    public GuestMetrics Metrics { get; }

    public PluginCounters Counters { get; }

    /// <summary>What the host refused this plugin, per limit (exported on /metrics).</summary>
    public Sandbox.PluginRefusals Refusals { get; }

    /// <summary>The lowest level the plugin's logger emits, in proxy-wasm numbering (trace 0 to critical 5, as <see cref="LogLevel"/>).</summary>
    public int ProxyWasmLogLevel()
    {
        for (int level = 0; level < 5; level++)
        {
            if (Logger.IsEnabled((LogLevel)level))
            {
                return level;
            }
        }
        return 5;
    }

    /// <summary>Counts a refusal and logs it, rate-limited.</summary>
    public void Refuse(Sandbox.HostLimit limit, string detail) => Refusals.Record(limit, Logger, Name, detail);

    private int _backendCallsInFlight;

    /// <summary>Unknown foreign-function names already logged; bounded so a plugin inventing names cannot grow it.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _unknownForeignFunctions = new(StringComparer.Ordinal);

    /// <summary>True the first time the plugin calls the unknown foreign function <paramref name="name"/>.</summary>
    public bool FirstCallOfUnknownForeignFunction(string name) =>
        _unknownForeignFunctions.Count < 64 && _unknownForeignFunctions.TryAdd(name, true);

    /// <summary>Claims a slot for a Redis or SQL call; false when the plugin's in-flight limit is reached.</summary>
    public bool TryStartBackendCall(int limit)
    {
        if (Interlocked.Increment(ref _backendCallsInFlight) <= limit)
        {
            return true;
        }
        Interlocked.Decrement(ref _backendCallsInFlight);
        return false;
    }

    public void EndBackendCall() => Interlocked.Decrement(ref _backendCallsInFlight);
}

/// <summary>
/// The plugins that share one VM per worker: same module, same vmId and VM configuration (docs/proxy-wasm.md, 'Loading and VMs', docs/proxy-wasm.md).
/// A plugin with no vmId gets a group of its own. A reload that leaves a group's module bytes and every one of
/// its plugins' options unchanged keeps the group, and with it each worker's VM and that VM's state.
/// </summary>
internal sealed class VmGroup(PluginEngine engine, PluginModule module, string vmId, byte[] vmConfiguration, PluginLimits limits, ILogger logger)
{
    private int _singletonClaimed;

    public PluginEngine Engine { get; } = engine;

    public PluginModule Module { get; } = module;

    public string VmId { get; } = vmId;

    /// <summary>Buffer type 6.</summary>
    public byte[] VmConfiguration { get; } = vmConfiguration;

    public PluginLimits Limits { get; } = limits;

    public ILogger Logger { get; } = logger;

    public List<PluginDefinition> Plugins { get; } = [];

    public string Name => Plugins.Count == 0 ? VmId : Plugins[0].Name;

    /// <summary>
    /// Where the group's shared data and queues live: the vmId plugins share on purpose, else the plugin's own
    /// namespace, which no guest-supplied vm_id can name (it starts with a NUL).
    /// </summary>
    public string Namespace => _namespace ??= VmId.Length > 0 ? VmId : "\0plugin:" + Name;

    private string? _namespace;

    public IReadOnlyDictionary<string, string> Environment => Plugins[0].Options.Environment;

    /// <summary>Every plugin of the group is a singleton: it runs on one worker only, not on routes.</summary>
    public bool IsSingleton => Plugins.TrueForAll(p => p.Options.Singleton);

    /// <summary>True for the one worker that is to run this singleton group; the group keeps that worker across reloads.</summary>
    public bool ClaimSingleton() => Interlocked.Exchange(ref _singletonClaimed, 1) == 0;

    /// <summary>True when <paramref name="module"/> and <paramref name="plugins"/> (in order) are exactly what this group was built from.</summary>
    public bool Serves(PluginModule module, List<PluginOptions> plugins)
    {
        if (module != Module || plugins.Count != Plugins.Count)
        {
            return false;
        }
        for (int i = 0; i < plugins.Count; i++)
        {
            if (!plugins[i].Equals(Plugins[i].Options))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>Operator-facing counters per plugin (exported on /metrics).</summary>
internal sealed class PluginCounters
{
    private long _traps;
    private long _deadlineHits;
    private long _memoryLimitHits;
    private long _recreations;

    public long Traps => Interlocked.Read(ref _traps);

    public long DeadlineHits => Interlocked.Read(ref _deadlineHits);

    public long MemoryLimitHits => Interlocked.Read(ref _memoryLimitHits);

    public long Recreations => Interlocked.Read(ref _recreations);

    public void Record(VmFailure failure)
    {
        switch (failure)
        {
            case VmFailure.Deadline:
                Interlocked.Increment(ref _deadlineHits);
                break;
            case VmFailure.MemoryLimit:
                Interlocked.Increment(ref _memoryLimitHits);
                Interlocked.Increment(ref _traps);
                break;
            default:
                Interlocked.Increment(ref _traps);
                break;
        }
    }

    public void RecordRecreation() => Interlocked.Increment(ref _recreations);
}
