using System.Net;

namespace Gateway.Proxy.Upstream;

/// <summary>
/// One address of a cluster, shared by all workers. Health state is kept in plain fields updated with
/// <see cref="Interlocked"/> so workers never take a lock to pick or report on an endpoint.
/// </summary>
internal sealed class UpstreamEndpoint
{
    private int _consecutiveFailures;
    private long _ejectedUntilTicks;
    private int _activeRequests;

    internal UpstreamEndpoint(int index, DnsEndPoint address)
    {
        Index = index;
        Address = address;
        HostHeader = address.Port == 80 ? address.Host : $"{address.Host}:{address.Port}";
    }

    public int Index { get; }

    public DnsEndPoint Address { get; }

    /// <summary>What the upstream sees in <c>Host</c> when the client's authority is not forwarded.</summary>
    public string HostHeader { get; }

    public int ActiveRequests => Volatile.Read(ref _activeRequests);

    public bool IsEjected(long nowTicks) => Volatile.Read(ref _ejectedUntilTicks) > nowTicks;

    internal void BeginRequest() => Interlocked.Increment(ref _activeRequests);

    internal void EndRequest() => Interlocked.Decrement(ref _activeRequests);

    internal void ReportSuccess()
    {
        if (Volatile.Read(ref _consecutiveFailures) != 0)
        {
            Volatile.Write(ref _consecutiveFailures, 0);
        }
    }

    /// <summary>Counts a connect failure or reset; returns true when this failure ejected the endpoint.</summary>
    internal bool ReportFailure(int threshold, int cooldownMs, long nowTicks)
    {
        if (Interlocked.Increment(ref _consecutiveFailures) < threshold)
        {
            return false;
        }
        Volatile.Write(ref _consecutiveFailures, 0);
        Volatile.Write(ref _ejectedUntilTicks, nowTicks + TimeSpan.FromMilliseconds(cooldownMs).Ticks);
        return true;
    }
}
