using System.Globalization;
using System.Text;
using Gateway.Http.Transport;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins;

/// <summary>
/// The process-wide plugin host: one Wasmtime engine with epoch interruption, every module compiled and linked
/// once, and what plugins share across workers (shared data, shared queues, metrics). Workers get their VMs
/// through <see cref="CreateWorker"/>.
/// </summary>
public sealed class PluginRuntime : IDisposable
{
    private readonly Dictionary<string, PluginDefinition> _plugins = new(StringComparer.Ordinal);
    private readonly List<PluginModule> _modules = [];
    private readonly List<VmGroup> _groups = [];
    private readonly EpochTicker _ticker;
    private int _workers;
    private long _lastRecreationTicks;

    private PluginRuntime(PluginServices services)
    {
        Services = services;
        using var config = new Config().WithEpochInterruption(true);
        Engine = new Engine(config);
        _ticker = new EpochTicker(Engine);
    }

    internal Engine Engine { get; }

    internal PluginServices Services { get; }

    internal SharedData SharedData { get; } = new();

    internal SharedQueues Queues { get; } = new();

    /// <summary>How long the last VM recreation took (for the perf harness and the recreation test).</summary>
    public TimeSpan LastRecreationTime => TimeSpan.FromTicks(Interlocked.Read(ref _lastRecreationTicks));

    /// <summary>
    /// Compiles every module once and validates each plugin on a throw-away probe VM (ABI §1.4 A, Envoy's canary):
    /// ABI marker, memory and allocator exports, start-up, <c>proxy_on_vm_start</c> and <c>proxy_on_configure</c>.
    /// <paramref name="errors"/> lists every problem, each naming its plugin.
    /// </summary>
    public static PluginRuntime Load(IReadOnlyList<PluginOptions> plugins, PluginServices services, out IReadOnlyList<string> errors)
    {
        var runtime = new PluginRuntime(services);
        var problems = new List<string>();
        var modules = new Dictionary<string, PluginModule?>(StringComparer.Ordinal);
        var groups = new Dictionary<(string Path, string VmId, string VmConfiguration), VmGroup>();
        foreach (var options in plugins)
        {
            if (runtime._plugins.ContainsKey(options.Name))
            {
                problems.Add($"plugin '{options.Name}': defined twice");
                continue;
            }
            if (options.Limits.MemoryBytes < 65536 || options.Limits.CpuMillisecondsPerCall < 1)
            {
                problems.Add($"plugin '{options.Name}': limits.memoryBytes must be at least 65536 and limits.cpuMillisecondsPerCall at least 1");
                continue;
            }
            if (!modules.TryGetValue(options.ModulePath, out var module))
            {
                module = PluginModule.Compile(runtime.Engine, options.ModulePath, options.Name, problems);
                modules.Add(options.ModulePath, module);
                if (module is not null)
                {
                    runtime._modules.Add(module);
                }
            }
            if (module is null)
            {
                continue;
            }
            var logger = services.LoggerFactory.CreateLogger("Gateway.Plugins." + options.Name);
            VmGroup? group = null;
            if (options.VmId.Length > 0)
            {
                groups.TryGetValue((options.ModulePath, options.VmId, options.VmConfiguration), out group);
            }
            if (group is null)
            {
                group = new VmGroup(runtime, module, options.VmId, Encoding.UTF8.GetBytes(options.VmConfiguration), options.Limits, logger);
                runtime._groups.Add(group);
                if (options.VmId.Length > 0)
                {
                    groups.Add((options.ModulePath, options.VmId, options.VmConfiguration), group);
                }
            }
            var plugin = new PluginDefinition(options, group, logger);
            group.Plugins.Add(plugin);
            runtime._plugins.Add(options.Name, plugin);
        }

        runtime.Probe(problems);
        errors = problems;
        return runtime;
    }

    /// <summary>Gives <paramref name="worker"/> its VMs, started now; call on the worker's thread. The first worker also runs the singletons.</summary>
    public WorkerPlugins CreateWorker(WorkerLoop worker)
    {
        var plugins = new WorkerPlugins(this, worker);
        bool first = Interlocked.Increment(ref _workers) == 1;
        var groups = new List<VmGroup>();
        foreach (var group in _groups)
        {
            // Every worker runs the route plugins from the start (their ticks and queues work before any request);
            // the first one also runs the singletons.
            if (first || !group.Plugins.TrueForAll(p => p.Options.Singleton))
            {
                groups.Add(group);
            }
        }
        plugins.Start(groups);
        return plugins;
    }

    /// <summary>True when <paramref name="name"/> is a loaded plugin that can be put on a route.</summary>
    public bool Contains(string name) => _plugins.TryGetValue(name, out var plugin) && !plugin.Options.Singleton;

    /// <summary>Plugin metrics in the Prometheus text format: guest-defined series and the host's failure counters.</summary>
    public void WritePrometheus(StringBuilder output)
    {
        output.Append("# TYPE gateway_plugin_traps_total counter\n");
        foreach (var plugin in _plugins.Values)
        {
            AppendCounter(output, "gateway_plugin_traps_total", plugin.Name, plugin.Counters.Traps);
        }
        output.Append("# TYPE gateway_plugin_deadline_exceeded_total counter\n");
        foreach (var plugin in _plugins.Values)
        {
            AppendCounter(output, "gateway_plugin_deadline_exceeded_total", plugin.Name, plugin.Counters.DeadlineHits);
        }
        output.Append("# TYPE gateway_plugin_memory_limit_total counter\n");
        foreach (var plugin in _plugins.Values)
        {
            AppendCounter(output, "gateway_plugin_memory_limit_total", plugin.Name, plugin.Counters.MemoryLimitHits);
        }
        output.Append("# TYPE gateway_plugin_vm_recreations_total counter\n");
        foreach (var plugin in _plugins.Values)
        {
            AppendCounter(output, "gateway_plugin_vm_recreations_total", plugin.Name, plugin.Counters.Recreations);
        }
        foreach (var plugin in _plugins.Values)
        {
            plugin.Metrics.WritePrometheus(plugin.Name, output);
        }
    }

    internal PluginDefinition Find(string name) =>
        _plugins.TryGetValue(name, out var plugin)
            ? plugin
            : throw new ArgumentException($"no plugin named '{name}' is loaded", nameof(name));

    internal void RecordRecreationTime(double milliseconds) =>
        Interlocked.Exchange(ref _lastRecreationTicks, TimeSpan.FromMilliseconds(milliseconds).Ticks);

    /// <summary>Builds each group once on a scratch worker and discards it, as Envoy's canary VM does.</summary>
    private void Probe(List<string> problems)
    {
        using var loop = new WorkerLoop(-1);
        var worker = new WorkerPlugins(this, loop);
        foreach (var group in _groups)
        {
            var vm = PluginVm.Create(group, worker, out string? error);
            if (vm is null)
            {
                foreach (var plugin in group.Plugins)
                {
                    problems.Add($"plugin '{plugin.Name}': {error}");
                }
                continue;
            }
            vm.Dispose();
        }
    }

    private static void AppendCounter(StringBuilder output, string metric, string plugin, long value) =>
        output.Append(metric).Append("{plugin=\"").Append(plugin).Append("\"} ")
            .Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    public void Dispose()
    {
        _ticker.Dispose();
        foreach (var module in _modules)
        {
            module.Dispose();
        }
        Engine.Dispose();
    }
}
