namespace Gateway.Proxy.Metrics;

/// <summary>
/// The request counters and latency histogram of one route name. One instance per name for the life of the process,
/// so a reload that keeps the route keeps its counts.
/// </summary>
internal sealed class RouteSeries
{
    /// <summary>Upper bounds of the latency buckets, in seconds; one more bucket holds everything above.</summary>
    public static readonly double[] LatencyBoundsSeconds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly long[] _byStatusClass = new long[5];
    private readonly long[] _latencyBuckets = new long[LatencyBoundsSeconds.Length + 1];
    private long _latencySumMicros;

    public RouteSeries(string name) => Name = name;

    /// <summary>The route's name; empty for requests that matched no route.</summary>
    public string Name { get; }

    public void Record(int statusCode, long elapsedTicks)
    {
        Interlocked.Increment(ref _byStatusClass[Math.Clamp(statusCode / 100, 1, 5) - 1]);
        double seconds = (double)elapsedTicks / TimeSpan.TicksPerSecond;
        int bucket = 0;
        while (bucket < LatencyBoundsSeconds.Length && seconds > LatencyBoundsSeconds[bucket])
        {
            bucket++;
        }
        Interlocked.Increment(ref _latencyBuckets[bucket]);
        Interlocked.Add(ref _latencySumMicros, elapsedTicks / (TimeSpan.TicksPerMillisecond / 1000));
    }

    /// <summary>Requests answered with a status of class <paramref name="statusClass"/> (1 to 5).</summary>
    public long Requests(int statusClass) => Interlocked.Read(ref _byStatusClass[statusClass - 1]);

    public long LatencyBucket(int bucket) => Interlocked.Read(ref _latencyBuckets[bucket]);

    public double LatencySumSeconds => Interlocked.Read(ref _latencySumMicros) / 1e6;
}
