using System.Globalization;
using System.Text;
using Gateway.Http.Transport;
using Gateway.Plugins.Shared;
using Gateway.Plugins.Vm;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins.Runtime;

/// <summary>
/// One generation of the plugin host: every configured plugin, grouped into VM groups whose modules are compiled
/// and linked once for all workers. Workers get their VMs through <see cref="CreateWorker"/>. A reload builds the
/// next generation with <see cref="Reload"/>: it shares the engine, shared data and queues, and keeps every group
/// whose module bytes and plugin options did not change, so those plugins keep their VMs and state.
/// </summary>
public sealed class PluginRuntime : IDisposable
{
    private const long WasmPageBytes = 65536;

    private readonly Dictionary<string, PluginDefinition> _plugins = new(StringComparer.Ordinal);
    private readonly List<PluginModule> _modules = [];
    private readonly List<VmGroup> _groups = [];
    private readonly PluginEngine _engine;
    private bool _disposed;

    private PluginRuntime(PluginEngine engine, PluginServices services)
    {
        _engine = engine;
        Services = services;
    }

    internal PluginServices Services { get; }

    internal SharedData SharedData => _engine.SharedData;

    internal SharedQueues Queues => _engine.Queues;

    /// <summary>How long the last VM recreation took (for the perf harness and the recreation test).</summary>
    public TimeSpan LastRecreationTime => _engine.LastRecreationTime;

    /// <summary>How many VM groups this generation built instead of keeping them from the previous one.</summary>
    public int GroupsBuilt { get; private set; }

    /// <summary>
    /// Compiles every module once and validates each plugin on a throw-away probe VM (docs/proxy-wasm.md, 'Contexts and callbacks', Envoy's canary):
    /// ABI marker, memory and allocator exports, start-up, <c>proxy_on_vm_start</c> and <c>proxy_on_configure</c>.
    /// <paramref name="errors"/> lists every problem, each naming its plugin.
    /// </summary>
    public static PluginRuntime Load(IReadOnlyList<PluginOptions> plugins, PluginServices services, out IReadOnlyList<string> errors)
    {
        var runtime = new PluginRuntime(new PluginEngine(), services);
        errors = runtime.Build(plugins, previous: null);
        return runtime;
    }

    /// <summary>
    /// Builds the next generation from <paramref name="plugins"/>: groups whose module bytes and plugin options are
    /// unchanged are kept as they are; changed or new ones are compiled (when their bytes changed) and probed like
    /// <see cref="Load"/>. This generation stays valid; dispose whichever of the two is no longer used.
    /// </summary>
    public PluginRuntime Reload(IReadOnlyList<PluginOptions> plugins, PluginServices services, out IReadOnlyList<string> errors)
    {
        _engine.Hold();
        var next = new PluginRuntime(_engine, services);
        errors = next.Build(plugins, previous: this);
        return next;
    }

    private List<string> Build(IReadOnlyList<PluginOptions> plugins, PluginRuntime? previous)
    {
        var problems = new List<string>();
        var modules = CompileModules(plugins, previous, problems);
        var shared = new Dictionary<(string Path, string VmId, string VmConfiguration), List<PluginOptions>>();
        var members = new List<(PluginModule Module, List<PluginOptions> Plugins)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var options in plugins)
        {
            if (!names.Add(options.Name))
            {
                problems.Add($"plugin '{options.Name}': defined twice");
                continue;
            }
            if (options.Limits.MemoryBytes < 65536 || options.Limits.CpuMillisecondsPerCall < 1)
            {
                problems.Add($"plugin '{options.Name}': limits.memoryBytes must be at least 65536 and limits.cpuMillisecondsPerCall at least 1");
                continue;
            }
            var module = modules[options.ModulePath];
            if (module is null)
            {
                continue;
            }
            if (module.InitialMemoryPages * WasmPageBytes > options.Limits.MemoryBytes)
            {
                // Instantiation would fail anyway; say why in the operator's terms.
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"plugin '{options.Name}': module declares {module.InitialMemoryPages} pages ({module.InitialMemoryPages * WasmPageBytes / 1048576.0:F1} MiB) of initial memory, over limits.memoryBytes {options.Limits.MemoryBytes} ({options.Limits.MemoryBytes / 1048576.0:F1} MiB)"));
                continue;
            }
            var key = (options.ModulePath, options.VmId, options.VmConfiguration);
            if (options.VmId.Length > 0 && shared.TryGetValue(key, out var group))
            {
                group.Add(options);
                continue;
            }
            group = [options];
            members.Add((module, group));
            if (options.VmId.Length > 0)
            {
                shared.Add(key, group);
            }
        }

        var built = new List<VmGroup>();
        foreach (var (module, options) in members)
        {
            VmGroup? group = previous?._groups.Find(g => g.Serves(module, options));
            if (group is null)
            {
                group = NewGroup(module, options);
                built.Add(group);
            }
            _groups.Add(group);
            foreach (var plugin in group.Plugins)
            {
                _plugins.Add(plugin.Name, plugin);
            }
        }
        GroupsBuilt = built.Count;
        Probe(built, problems);
        return problems;
    }

    /// <summary>
    /// The compiled module of every plugin file: the previous generation's when the bytes are the same, else loaded
    /// from the compiled-module cache or compiled now. Modules to compile are compiled in parallel, one per core:
    /// with many Go-sized plugins, compiling is most of a first start.
    /// </summary>
    private Dictionary<string, PluginModule?> CompileModules(IReadOnlyList<PluginOptions> plugins, PluginRuntime? previous, List<string> problems)
    {
        var modules = new Dictionary<string, PluginModule?>(StringComparer.Ordinal);
        var pending = new List<(string Path, string Label, byte[] Bytes, byte[] Digest)>();
        foreach (var options in plugins)
        {
            if (modules.ContainsKey(options.ModulePath))
            {
                continue;
            }
            byte[]? bytes = PluginModule.Read(options.ModulePath, options.Name, problems);
            modules.Add(options.ModulePath, null);
            if (bytes is null)
            {
                continue;
            }
            byte[] digest = PluginModule.DigestOf(bytes);
            PluginModule? kept = previous?._modules.Find(m => m.Path == options.ModulePath && m.Digest.AsSpan().SequenceEqual(digest));
            if (kept is not null)
            {
                kept.Hold();
                _modules.Add(kept);
                modules[options.ModulePath] = kept;
                continue;
            }
            pending.Add((options.ModulePath, options.Name, bytes, digest));
        }

        var compiled = new PluginModule?[pending.Count];
        var errors = new List<string>[pending.Count];
        var cache = Services.ModuleCacheDirectory is { Length: > 0 } directory
            ? new ModuleCache(directory, Services.LoggerFactory.CreateLogger("Gateway.Plugins"))
            : null;
        Parallel.For(0, pending.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (path, label, bytes, digest) = pending[i];
            errors[i] = [];
            compiled[i] = PluginModule.Compile(_engine.Engine, path, bytes, digest, label, errors[i], cache);
        });
        for (int i = 0; i < pending.Count; i++)
        {
            problems.AddRange(errors[i]);
            if (compiled[i] is { } module)
            {
                _modules.Add(module);
                modules[pending[i].Path] = module;
            }
        }
        return modules;
    }

    private VmGroup NewGroup(PluginModule module, List<PluginOptions> members)
    {
        var first = members[0];
        var logger = Services.LoggerFactory.CreateLogger("Gateway.Plugins." + first.Name);
        var group = new VmGroup(_engine, module, first.VmId, Encoding.UTF8.GetBytes(first.VmConfiguration), first.Limits, logger);
        foreach (var options in members)
        {
            var pluginLogger = options == first ? logger : Services.LoggerFactory.CreateLogger("Gateway.Plugins." + options.Name);
            group.Plugins.Add(new PluginDefinition(options, group, pluginLogger, Services.Metrics.For(options.Name)));
        }
        return group;
    }

    /// <summary>
    /// Gives <paramref name="worker"/> its VMs; call on the worker's thread. VMs of groups this generation kept move
    /// over from <paramref name="previous"/> (the worker's VMs of the generation before) with their state; the
    /// others start now. A singleton group runs on the one worker that claims it first.
    /// </summary>
    public WorkerPlugins CreateWorker(WorkerLoop worker, WorkerPlugins? previous = null)
    {
        var plugins = new WorkerPlugins(this, worker);
        var fresh = new List<VmGroup>();
        foreach (var group in _groups)
        {
            if (previous?.Give(group) is { } slot)
            {
                plugins.Adopt(slot);
            }
            else if (!group.IsSingleton || group.ClaimSingleton())
            {
                // Every worker runs the route plugins from the start, so their ticks and queues work before any request.
                fresh.Add(group);
            }
        }
        plugins.Start(fresh);
        return plugins;
    }

    /// <summary>True when <paramref name="name"/> is a loaded plugin that can be put on a route.</summary>
    public bool Contains(string name) => _plugins.TryGetValue(name, out var plugin) && !plugin.Options.Singleton;

    /// <summary>Plugin metrics in the Prometheus text format: guest-defined series and the host's failure counters.</summary>
    public void WritePrometheus(StringBuilder output)
    {
        AppendFamily(output, "gateway_plugin_traps_total", static plugin => plugin.Counters.Traps);
        AppendFamily(output, "gateway_plugin_deadline_exceeded_total", static plugin => plugin.Counters.DeadlineHits);
        AppendFamily(output, "gateway_plugin_memory_limit_total", static plugin => plugin.Counters.MemoryLimitHits);
        AppendFamily(output, "gateway_plugin_vm_recreations_total", static plugin => plugin.Counters.Recreations);
        AppendFamily(output, "gateway_plugin_log_dropped_total", static plugin => plugin.GuestLog.Dropped);
        output.Append("# TYPE gateway_plugin_refusals_total counter\n");
        foreach (var plugin in _plugins.Values)
        {
            for (int i = 0; i < Sandbox.HostLimits.Count; i++)
            {
                var limit = (Sandbox.HostLimit)i;
                output.Append("gateway_plugin_refusals_total{plugin=\"").Append(plugin.Name).Append("\",limit=\"")
                    .Append(Sandbox.HostLimits.Label(limit)).Append("\"} ")
                    .Append(plugin.Refusals[limit].ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var plugin in _plugins.Values)
        {
            plugin.Metrics.WritePrometheus(output, written);
        }
    }

    internal PluginDefinition Find(string name) =>
        _plugins.TryGetValue(name, out var plugin)
            ? plugin
            : throw new ArgumentException($"no plugin named '{name}' is loaded", nameof(name));

    /// <summary>
    /// Builds each new group once on a scratch worker and discards it, as Envoy's canary VM does. The probe runs as that
    /// worker, like every guest call: a tick or a reply that falls due while a VM is being built queues behind it there,
    /// instead of entering the same guest from a timer thread.
    /// </summary>
    private void Probe(List<VmGroup> groups, List<string> problems)
    {
        using var loop = new WorkerLoop(-1);
        var worker = new WorkerPlugins(this, loop);
        loop.RunAsync(() =>
        {
            ProbeOn(worker, groups, problems);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();
    }

    private static void ProbeOn(WorkerPlugins worker, List<VmGroup> groups, List<string> problems)
    {
        foreach (var group in groups)
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

    /// <summary>One counter family: its TYPE line, then a series per plugin.</summary>
    private void AppendFamily(StringBuilder output, string metric, Func<PluginDefinition, long> value)
    {
        output.Append("# TYPE ").Append(metric).Append(" counter\n");
        foreach (var plugin in _plugins.Values)
        {
            AppendCounter(output, metric, plugin.Name, value(plugin));
        }
    }

    private static void AppendCounter(StringBuilder output, string metric, string plugin, long value) =>
        output.Append(metric).Append("{plugin=\"").Append(plugin).Append("\"} ")
            .Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    /// <summary>Lets go of this generation's modules and engine; whatever a later generation still uses lives on.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var module in _modules)
        {
            module.Release();
        }
        _engine.Release();
    }
}
