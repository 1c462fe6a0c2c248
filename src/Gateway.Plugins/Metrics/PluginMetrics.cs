using System.Collections.Concurrent;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Sandbox;

namespace Gateway.Plugins.Metrics;

/// <summary>
/// Every plugin's series, owned by the process: the metrics its guest defined, its failure counters and what the
/// host refused it. A reload that re-creates a plugin (new module, new configuration) hands the new definition the
/// series of the same name, so counters never go back to zero while the gateway runs.
/// </summary>
public sealed class PluginMetrics
{
    private readonly ConcurrentDictionary<string, PluginSeries> _plugins = new(StringComparer.Ordinal);

    internal PluginSeries For(string plugin) => _plugins.GetOrAdd(plugin, static _ => new PluginSeries());
}

/// <summary>The series of one plugin, by plugin name.</summary>
internal sealed class PluginSeries
{
    public GuestMetrics Guest { get; } = new();

    public PluginCounters Counters { get; } = new();

    public PluginRefusals Refusals { get; } = new();
}
