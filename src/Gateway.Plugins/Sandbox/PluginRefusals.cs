using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Sandbox;

/// <summary>
/// Counts what the host refused a plugin, per limit, and logs at most one line a second per plugin: a plugin that
/// retries a refused call in a loop must not flood the log.
/// </summary>
internal sealed class PluginRefusals
{
    private readonly long[] _counts = new long[HostLimits.Count];
    private long _lastLogged;

    public long this[HostLimit limit] => Interlocked.Read(ref _counts[(int)limit]);

    public void Record(HostLimit limit, ILogger logger, string plugin, string detail)
    {
        Interlocked.Increment(ref _counts[(int)limit]);
        long now = Stopwatch.GetTimestamp();
        long last = Interlocked.Read(ref _lastLogged);
        if ((last == 0 || now - last >= Stopwatch.Frequency) && Interlocked.CompareExchange(ref _lastLogged, now, last) == last)
        {
            SandboxLog.Refused(logger, plugin, HostLimits.Label(limit), detail);
        }
    }
}
