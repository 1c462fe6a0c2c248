using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Gateway.Backends;

/// <summary>
/// Per-target counters for the admin <c>/metrics</c> endpoint: calls by status and a latency
/// histogram. Updated with interlocked adds from any thread; read without locking (a scrape may
/// see a call counted in one series and not yet in another, which Prometheus tolerates).
/// </summary>
internal sealed class TargetMetrics
{
    // Upper bounds in seconds: sub-millisecond resolution where the gateway's budget lives (well under 2 ms per call).
    private static readonly double[] BucketBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    private readonly string _target;
    private readonly string[] _statusNames;
    private readonly long[] _callsByStatus;
    private readonly long[] _bucketCounts = new long[BucketBounds.Length + 1];
    private long _sumMicroseconds;

    public TargetMetrics(string target, string[] statusNames)
    {
        // Label values escape backslash and double quote (Prometheus text exposition format).
        _target = target.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
        _statusNames = statusNames;
        _callsByStatus = new long[statusNames.Length];
    }

    public void Record(int status, long startTimestamp)
    {
        var elapsed = Stopwatch.GetElapsedTime(startTimestamp);
        Interlocked.Increment(ref _callsByStatus[status]);
        Interlocked.Add(ref _sumMicroseconds, (long)(elapsed.Ticks / (double)TimeSpan.TicksPerMicrosecond));
        var seconds = elapsed.TotalSeconds;
        var bucket = 0;
        while (bucket < BucketBounds.Length && seconds > BucketBounds[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref _bucketCounts[bucket]);
    }

    /// <summary>Writes one metric family at a time across all targets, as the exposition format requires.</summary>
    public static void WriteAll(StringBuilder output, string kind, IReadOnlyList<TargetMetrics> targets, IReadOnlyList<CircuitBreaker>? breakers)
    {
        if (targets.Count == 0)
        {
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        output.Append(inv, $"# HELP gateway_{kind}_calls_total {kind} host calls completed, by callback status.\n");
        output.Append(inv, $"# TYPE gateway_{kind}_calls_total counter\n");
        foreach (var t in targets)
        {
            for (var i = 0; i < t._callsByStatus.Length; i++)
            {
                output.Append(inv, $"gateway_{kind}_calls_total{{target=\"{t._target}\",status=\"{t._statusNames[i]}\"}} {Volatile.Read(ref t._callsByStatus[i])}\n");
            }
        }

        output.Append(inv, $"# HELP gateway_{kind}_call_duration_seconds {kind} host call latency, dispatch to completion.\n");
        output.Append(inv, $"# TYPE gateway_{kind}_call_duration_seconds histogram\n");
        foreach (var t in targets)
        {
            long cumulative = 0;
            for (var i = 0; i < BucketBounds.Length; i++)
            {
                cumulative += Volatile.Read(ref t._bucketCounts[i]);
                output.Append(inv, $"gateway_{kind}_call_duration_seconds_bucket{{target=\"{t._target}\",le=\"{BucketBounds[i]}\"}} {cumulative}\n");
            }

            cumulative += Volatile.Read(ref t._bucketCounts[BucketBounds.Length]);
            output.Append(inv, $"gateway_{kind}_call_duration_seconds_bucket{{target=\"{t._target}\",le=\"+Inf\"}} {cumulative}\n");
            output.Append(inv, $"gateway_{kind}_call_duration_seconds_sum{{target=\"{t._target}\"}} {Volatile.Read(ref t._sumMicroseconds) / 1e6}\n");
            output.Append(inv, $"gateway_{kind}_call_duration_seconds_count{{target=\"{t._target}\"}} {cumulative}\n");
        }

        if (breakers is null)
        {
            return;
        }

        output.Append(inv, $"# HELP gateway_{kind}_circuit_state Circuit breaker: 0 closed, 1 open, 2 half-open.\n");
        output.Append(inv, $"# TYPE gateway_{kind}_circuit_state gauge\n");
        for (var i = 0; i < targets.Count; i++)
        {
            output.Append(inv, $"gateway_{kind}_circuit_state{{target=\"{targets[i]._target}\"}} {(int)breakers[i].State}\n");
        }
    }
}
