using Microsoft.Extensions.Logging;

namespace Gateway.Backends;

/// <summary>Every log line of this layer. Arguments are names and codes only: never a secret, a query or SQL text.</summary>
internal static partial class BackendLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "{Kind} target {Target}: circuit breaker opened after consecutive failures ({Cause})")]
    public static partial void CircuitOpened(ILogger logger, string kind, string target, string cause);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "{Kind} target {Target}: circuit breaker closed, backend answers again")]
    public static partial void CircuitClosed(ILogger logger, string kind, string target);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Redis target {Target}: password file changed, new connections use the new password")]
    public static partial void RedisPasswordRotated(ILogger logger, string target);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "{Kind} target {Target}: cannot read the password file ({Cause}); keeping the current password")]
    public static partial void PasswordFileUnreadable(ILogger logger, string kind, string target, string cause);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "Redis target {Target}: not connected after the connect timeout during start-up checks ({Cause}); reconnecting in the background")]
    public static partial void RedisUnreachableAtStart(ILogger logger, string target, string cause);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Error, Message = "{Kind} target {Target}: unexpected failure of a host call ({Cause})")]
    public static partial void UnexpectedFailure(ILogger logger, string kind, string target, string cause);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Database {Target}: unreachable during start-up checks ({Cause}); statements will be described on first use")]
    public static partial void DatabaseUnreachableAtStart(ILogger logger, string target, string cause);
}
