using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Logging;

/// <summary>
/// Everything one plugin logs (<c>proxy_log</c>, stdout/stderr, AssemblyScript <c>abort</c>/<c>trace</c>) goes
/// through here: each record is capped in size and the plugin's rate is limited by a token bucket, so a plugin
/// that logs in a loop costs a counter increment, not a flooded console. Dropped records are counted
/// (<c>gateway_plugin_log_dropped_total</c>).
/// </summary>
internal sealed class GuestLog(ILogger logger, string plugin)
{
    /// <summary>Longest record kept, in characters; a Go panic with its stack fits.</summary>
    public const int MaxMessageChars = 16 * 1024;

    /// <summary>Sustained records per second per plugin, and the burst allowed above it.</summary>
    public const int RecordsPerSecond = 500;

    public const int Burst = 1000;

    private readonly Lock _lock = new();
    private double _tokens = Burst;
    private long _refilled = Stopwatch.GetTimestamp();
    private long _dropped;

    public ILogger Logger { get; } = logger;

    /// <summary>Records refused by the rate limit since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public bool IsEnabled(LogLevel level) => Logger.IsEnabled(level);

    /// <summary>Logs <paramref name="text"/> at <paramref name="level"/> unless the level is off or the plugin is over its rate.</summary>
    public void Write(LogLevel level, string text) => Write(level, text, text.Length);

    /// <summary>As <see cref="Write(LogLevel, string)"/>, for a text the caller already cut from <paramref name="total"/> units.</summary>
    public void Write(LogLevel level, string text, int total)
    {
        if (!Logger.IsEnabled(level))
        {
            return;
        }
        if (!TryTake())
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        if (text.Length > MaxMessageChars || total > text.Length)
        {
            text = string.Concat(text.AsSpan(0, Math.Min(text.Length, MaxMessageChars)), $"... [truncated, {total} in all]");
        }
        PluginLog.GuestMessage(Logger, level, plugin, text);
    }

    private bool TryTake()
    {
        lock (_lock)
        {
            long now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(Burst, _tokens + (now - _refilled) * (double)RecordsPerSecond / Stopwatch.Frequency);
            _refilled = now;
            if (_tokens < 1)
            {
                return false;
            }
            _tokens--;
            return true;
        }
    }
}
