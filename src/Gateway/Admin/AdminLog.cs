using Microsoft.Extensions.Logging;

namespace Gateway.Admin;

/// <summary>The admin port's own events.</summary>
internal static partial class AdminLog
{
    [LoggerMessage(EventId = 200, EventName = "admin_started", Level = LogLevel.Information, Message = "admin port bound to {Endpoint}")]
    public static partial void Started(ILogger logger, string endpoint);
}
