using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Sandbox;

/// <summary>Log lines of the host's bounds on plugins.</summary>
internal static partial class SandboxLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "plugin {Plugin} refused ({Limit}): {Detail}")]
    public static partial void Refused(ILogger logger, string plugin, string limit, string detail);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "plugin {Plugin}: host import {Import} failed with {Exception}: {Reason}; the call answered INTERNAL_FAILURE")]
    public static partial void ImportFailed(ILogger logger, string plugin, string import, string exception, string reason);
}
