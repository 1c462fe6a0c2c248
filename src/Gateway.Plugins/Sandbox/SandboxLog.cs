using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Sandbox;

/// <summary>Log lines of the host's bounds on plugins.</summary>
internal static partial class SandboxLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "plugin {Plugin} refused ({Limit}): {Detail}")]
    public static partial void Refused(ILogger logger, string plugin, string limit, string detail);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "plugin {Plugin}: tick skipped on worker {Worker}, the previous one overran its period")]
    public static partial void TickSkipped(ILogger logger, string plugin, int worker);
}
