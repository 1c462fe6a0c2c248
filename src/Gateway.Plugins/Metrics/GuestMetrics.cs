using System.Globalization;
using System.Text;

namespace Gateway.Plugins.Metrics;

/// <summary>
/// Metrics a plugin defines (docs/proxy-wasm.md, 'Other imports'), shared by all its VMs. Ids carry the type in their low two bits and advance
/// in steps of 4, as Envoy hands them out; names are exported under the plugin's name.
/// </summary>
internal sealed class GuestMetrics
{
    public const int Counter = 0;
    public const int Gauge = 1;
    public const int Histogram = 2;

    /// <summary>Longer guest names are refused: every scrape carries each name.</summary>
    public const int MaxNameLength = 200;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _idsByName = new(StringComparer.Ordinal);
    private readonly List<GuestMetric> _metrics = [];

    /// <summary>
    /// The id of the series named <paramref name="name"/>, defining it on first use. Names are compared as exported
    /// (after sanitizing), so two spellings of one Prometheus name are one series, and a VM that restarts gets its
    /// series back. -1 when the name is too long, taken by another type, or the plugin reached <paramref name="maxMetrics"/>.
    /// </summary>
    public int Define(int type, string plugin, string name, int maxMetrics)
    {
        if (name.Length > MaxNameLength)
        {
            return -1;
        }
        string exported = PrometheusName(plugin, name);
        lock (_lock)
        {
            if (_idsByName.TryGetValue(exported, out int existing))
            {
                return (existing & 3) == type ? existing : -1;
            }
            if (_metrics.Count >= maxMetrics)
            {
                return -1;
            }
            int id = (_metrics.Count << 2) | type;
            _metrics.Add(new GuestMetric(exported, type));
            _idsByName[exported] = id;
            return id;
        }
    }

    public GuestMetric? Find(int id)
    {
        int index = id >> 2;
        lock (_lock)
        {
            if ((uint)index >= (uint)_metrics.Count || _metrics[index].Type != (id & 3))
            {
                return null;
            }
            return _metrics[index];
        }
    }

    /// <summary>
    /// Writes each series as its own family, skipping names another plugin already wrote (<paramref name="written"/>):
    /// a duplicate family would make Prometheus reject the whole scrape.
    /// </summary>
    public void WritePrometheus(StringBuilder output, HashSet<string> written)
    {
        GuestMetric[] metrics;
        lock (_lock)
        {
            metrics = [.. _metrics];
        }
        foreach (var metric in metrics)
        {
            string name = metric.Name;
            bool summary = metric.Type != Counter && metric.Type != Gauge;
            if (written.Contains(name) || (summary && (written.Contains(name + "_count") || written.Contains(name + "_sum"))))
            {
                continue;
            }
            written.Add(name);
            if (summary)
            {
                // A summary's samples are named with these suffixes: no other family may use them.
                written.Add(name + "_count");
                written.Add(name + "_sum");
            }
            switch (metric.Type)
            {
                case Counter:
                    output.Append("# TYPE ").Append(name).Append(" counter\n");
                    output.Append(name).Append(' ').Append(metric.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    break;
                case Gauge:
                    output.Append("# TYPE ").Append(name).Append(" gauge\n");
                    output.Append(name).Append(' ').Append(metric.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    break;
                default:
                    output.Append("# TYPE ").Append(name).Append(" summary\n");
                    output.Append(name).Append("_count ").Append(metric.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    output.Append(name).Append("_sum ").Append(metric.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    break;
            }
        }
    }

    /// <summary>Prometheus names allow <c>[a-zA-Z0-9_:]</c>; everything else becomes <c>_</c>.</summary>
    internal static string PrometheusName(string plugin, string metric)
    {
        var name = new StringBuilder("wasm_").Append(plugin).Append('_').Append(metric);
        for (int i = 0; i < name.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(name[i]) && name[i] != '_' && name[i] != ':')
            {
                name[i] = '_';
            }
        }
        return name.ToString();
    }
}
