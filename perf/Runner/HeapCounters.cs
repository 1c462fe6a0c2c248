using System.Globalization;

namespace Gateway.Perf.Runner;

/// <summary>
/// The gateway's managed-heap counters as its admin listener serves them on `/metrics` (Prometheus text):
/// bytes allocated, collections by generation, time paused for collections. A figure an earlier build does not
/// serve (PERF_BASELINE_GATEWAY) stays null.
/// </summary>
public sealed record HeapCounters(double? AllocatedBytes, double? Gen0, double? Gen1, double? Gen2, double? PauseSeconds)
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <summary>The counters now, or null when the admin port does not answer with them.</summary>
    public static HeapCounters? Read(int adminPort)
    {
        string text;
        try
        {
            text = Client.GetStringAsync($"http://127.0.0.1:{adminPort}/metrics").GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
        return Parse(text.Split('\n'));
    }

    public static HeapCounters Parse(IEnumerable<string> lines)
    {
        double? allocated = null, gen0 = null, gen1 = null, gen2 = null, pause = null;
        foreach (var line in lines)
        {
            var space = line.LastIndexOf(' ');
            if (line.StartsWith('#') || space < 0 ||
                !double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }
            switch (line[..space])
            {
                case "gateway_allocated_bytes_total": allocated = value; break;
                case "gateway_gc_collections_total{generation=\"0\"}": gen0 = value; break;
                case "gateway_gc_collections_total{generation=\"1\"}": gen1 = value; break;
                case "gateway_gc_collections_total{generation=\"2\"}": gen2 = value; break;
                case "gateway_gc_pause_seconds_total": pause = value; break;
            }
        }
        return new HeapCounters(allocated, gen0, gen1, gen2, pause);
    }

    /// <summary>What the heap did over one phase, per response (and per second for the pauses).</summary>
    public HeapPerRequest Since(HeapCounters before, long responses, double seconds) => new(
        Per(AllocatedBytes, before.AllocatedBytes, responses),
        Per(Gen0, before.Gen0, responses / 100_000.0),
        Per(Gen1, before.Gen1, responses / 100_000.0),
        Per(Gen2, before.Gen2, responses / 100_000.0),
        Per(PauseSeconds * 1000, before.PauseSeconds * 1000, seconds));

    private static double? Per(double? after, double? before, double units) =>
        after is double a && before is double b && units > 0 ? (a - b) / units : null;
}

/// <summary>
/// Managed-heap work over one phase: bytes allocated per response, collections of each generation per 100k
/// responses, and milliseconds paused for collections per second of the phase.
/// </summary>
public sealed record HeapPerRequest(
    double? BytesPerRequest, double? Gen0Per100k, double? Gen1Per100k, double? Gen2Per100k, double? PauseMsPerSecond);
