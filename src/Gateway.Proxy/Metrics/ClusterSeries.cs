using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Metrics;

/// <summary>
/// The upstream connection gauges and error counters of one cluster name, for the life of the process. Pools of a
/// replaced snapshot keep reporting their closing connections here, so the gauges return to what is really open.
/// </summary>
internal sealed class ClusterSeries
{
    private readonly long[] _errors = new long[UpstreamErrors.Count];
    private long _open;
    private long _idle;
    private long _ejections;

    public ClusterSeries(string name) => Name = name;

    public string Name { get; }

    public void Failed(UpstreamError error) => Interlocked.Increment(ref _errors[(int)error]);

    public void OpenChanged(int delta) => Interlocked.Add(ref _open, delta);

    public void IdleChanged(int delta) => Interlocked.Add(ref _idle, delta);

    public void Ejected() => Interlocked.Increment(ref _ejections);

    public long Open => Interlocked.Read(ref _open);

    public long Idle => Interlocked.Read(ref _idle);

    public long Ejections => Interlocked.Read(ref _ejections);

    public long Errors(UpstreamError error) => Interlocked.Read(ref _errors[(int)error]);
}
