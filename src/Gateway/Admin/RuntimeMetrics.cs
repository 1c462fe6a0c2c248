using System.Globalization;
using System.Text;

namespace Gateway.Admin;

/// <summary>
/// The runtime's own figures on <c>/metrics</c>: garbage collections by generation, the time they paused the process,
/// bytes allocated and the managed heap. A latency tail that follows collections shows here first.
/// </summary>
internal static class RuntimeMetrics
{
    public static void WritePrometheus(StringBuilder output)
    {
        output.Append("# HELP gateway_gc_collections_total Garbage collections, by generation.\n# TYPE gateway_gc_collections_total counter\n");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            output.Append("gateway_gc_collections_total{generation=\"").Append(generation).Append("\"} ")
                .Append(GC.CollectionCount(generation)).Append('\n');
        }

        output.Append("# HELP gateway_gc_pause_seconds_total Time the process was paused for garbage collection.\n# TYPE gateway_gc_pause_seconds_total counter\n")
            .Append("gateway_gc_pause_seconds_total ").Append(GC.GetTotalPauseDuration().TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');
        output.Append("# HELP gateway_allocated_bytes_total Bytes allocated on the managed heap.\n# TYPE gateway_allocated_bytes_total counter\n")
            .Append("gateway_allocated_bytes_total ").Append(GC.GetTotalAllocatedBytes()).Append('\n');
        output.Append("# HELP gateway_gc_heap_bytes Managed heap size after the last collection.\n# TYPE gateway_gc_heap_bytes gauge\n")
            .Append("gateway_gc_heap_bytes ").Append(GC.GetGCMemoryInfo().HeapSizeBytes).Append('\n');
    }
}
