namespace Gateway.Plugins.Metrics;

/// <summary>One guest-defined series; counters and gauges keep <see cref="Value"/>, histograms a count and a sum.</summary>
internal sealed class GuestMetric(string name, int type)
{
    private long _value;
    private long _count;

    public string Name { get; } = name;

    public int Type { get; } = type;

    public long Value => Interlocked.Read(ref _value);

    public long Count => Interlocked.Read(ref _count);

    public void Add(long delta) => Interlocked.Add(ref _value, delta);

    public void Set(long value) => Interlocked.Exchange(ref _value, value);

    public void Observe(long value)
    {
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _value, value);
    }

    /// <summary><c>proxy_increment_metric</c>: counters only grow; a histogram cannot be incremented. False refuses the call.</summary>
    public bool TryIncrement(long delta)
    {
        if (Type == GuestMetrics.Histogram || (Type == GuestMetrics.Counter && delta <= 0))
        {
            return false;
        }
        Add(delta);
        return true;
    }

    /// <summary><c>proxy_record_metric</c>: a counter adds, a gauge takes the value, a histogram observes it.</summary>
    public void Record(long value)
    {
        switch (Type)
        {
            case GuestMetrics.Counter:
                Add(value);
                break;
            case GuestMetrics.Gauge:
                Set(value);
                break;
            default:
                Observe(value);
                break;
        }
    }
}
