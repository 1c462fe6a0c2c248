using HdrHistogram;

namespace Gateway.Perf.Load;

/// <summary>
/// An HdrHistogram of response times in nanoseconds, shared by the connection
/// threads of one run. The loader threads share one core, so the lock is
/// uncontended in practice and costs far less than one request.
/// </summary>
public sealed class LatencyRecorder
{
    // 3 significant digits: 0.1% resolution, from 1 ns up to 60 s.
    private readonly LongHistogram _histogram = new(60L * 1_000_000_000, 3);
    private readonly Lock _gate = new();
    private long _errors;

    public void Record(long nanoseconds)
    {
        lock (_gate)
        {
            _histogram.RecordValue(Math.Clamp(nanoseconds, 1, _histogram.HighestTrackableValue));
        }
    }

    public void RecordError() => Interlocked.Increment(ref _errors);

    public long Errors => Interlocked.Read(ref _errors);

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _histogram.TotalCount;
            }
        }
    }

    public LatencySummary Summarize()
    {
        lock (_gate)
        {
            if (_histogram.TotalCount == 0)
            {
                return new LatencySummary(0, 0, 0, 0, 0, 0, 0);
            }
            static double Us(long ns) => ns / 1000.0;
            return new LatencySummary(
                _histogram.TotalCount,
                Us(_histogram.GetValueAtPercentile(50)),
                Us(_histogram.GetValueAtPercentile(90)),
                Us(_histogram.GetValueAtPercentile(99)),
                Us(_histogram.GetValueAtPercentile(99.9)),
                Us(_histogram.GetMaxValue()),
                _histogram.GetMean() / 1000.0);
        }
    }
}

/// <summary>Percentiles of one run, in microseconds.</summary>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double P999, double Max, double Mean);
