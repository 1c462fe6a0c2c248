using Microsoft.Extensions.Logging;

namespace Gateway.Backends;

/// <summary>Every log line of this layer. Arguments are names and codes only: never a secret, a query or SQL text.</summary>
internal static partial class BackendLog
{
    [LoggerMessage(EventId = 5001, EventName = "circuit_opened", Level = LogLevel.Warning, Message = "{Kind} target {Target}: circuit breaker opened after consecutive failures ({Cause})")]
    public static partial void CircuitOpened(ILogger logger, string kind, string target, string cause);

    [LoggerMessage(EventId = 5002, EventName = "circuit_closed", Level = LogLevel.Information, Message = "{Kind} target {Target}: circuit breaker closed, backend answers again")]
    public static partial void CircuitClosed(ILogger logger, string kind, string target);

    [LoggerMessage(EventId = 5003, EventName = "redis_password_rotated", Level = LogLevel.Information, Message = "Redis target {Target}: password file changed, new connections use the new password")]
    public static partial void RedisPasswordRotated(ILogger logger, string target);

    [LoggerMessage(EventId = 5004, EventName = "password_file_unreadable", Level = LogLevel.Warning, Message = "{Kind} target {Target}: cannot read the password file ({Cause}); keeping the current password")]
    public static partial void PasswordFileUnreadable(ILogger logger, string kind, string target, string cause);

    [LoggerMessage(EventId = 5006, EventName = "redis_unreachable_at_start", Level = LogLevel.Warning, Message = "Redis target {Target}: not connected after the connect timeout during start-up checks ({Cause}); reconnecting in the background")]
    public static partial void RedisUnreachableAtStart(ILogger logger, string target, string cause);

    [LoggerMessage(EventId = 5008, EventName = "redis_unreachable", Level = LogLevel.Warning, Message = "Redis target {Target}: not connected ({Cause}); calls fail at once while reconnecting")]
    public static partial void RedisUnreachable(ILogger logger, string target, string cause);

    [LoggerMessage(EventId = 5009, EventName = "redis_reconnected", Level = LogLevel.Information, Message = "Redis target {Target}: connected again")]
    public static partial void RedisReconnected(ILogger logger, string target);

    [LoggerMessage(EventId = 5007, EventName = "host_call_failed", Level = LogLevel.Error, Message = "{Kind} target {Target}: unexpected failure of a host call ({Cause})")]
    public static partial void UnexpectedFailure(ILogger logger, string kind, string target, string cause);

    [LoggerMessage(EventId = 5005, EventName = "database_unreachable_at_start", Level = LogLevel.Warning, Message = "Database {Target}: unreachable during start-up checks ({Cause}); statements will be described on first use")]
    public static partial void DatabaseUnreachableAtStart(ILogger logger, string target, string cause);

    [LoggerMessage(EventId = 5016, EventName = "database_pool_not_filled", Level = LogLevel.Warning, Message = "Database {Target}: opened {Opened} of the {Minimum} connections the pool keeps ({Cause}); the rest open on demand")]
    public static partial void DatabasePoolNotFilled(ILogger logger, string target, int opened, int minimum, string cause);

    [LoggerMessage(EventId = 5010, EventName = "redis_command_refused", Level = LogLevel.Warning, Message = "Redis target {Target}: plugin {Plugin} sent {Command}, refused with BAD_ARGUMENT: {Remedy}")]
    public static partial void RedisCommandRefused(ILogger logger, string target, string plugin, string command, string remedy);

    [LoggerMessage(EventId = 5011, EventName = "redis_command_malformed", Level = LogLevel.Warning, Message = "Redis target {Target}: plugin {Plugin} sent a malformed command, refused with BAD_ARGUMENT before any socket: {Remedy}")]
    public static partial void RedisCommandMalformed(ILogger logger, string target, string plugin, string remedy);

    [LoggerMessage(EventId = 5012, EventName = "redis_plugin_circuit_opened", Level = LogLevel.Warning, Message = "Redis target {Target}: circuit breaker for plugin {Plugin} opened after consecutive failures ({Cause})")]
    public static partial void RedisPluginCircuitOpened(ILogger logger, string target, string plugin, string cause);

    [LoggerMessage(EventId = 5013, EventName = "redis_plugin_circuit_closed", Level = LogLevel.Information, Message = "Redis target {Target}: circuit breaker for plugin {Plugin} closed, Redis answers again")]
    public static partial void RedisPluginCircuitClosed(ILogger logger, string target, string plugin);

    [LoggerMessage(EventId = 5014, EventName = "redis_reply_too_large", Level = LogLevel.Warning, Message = "Redis target {Target}: a reply to plugin {Plugin} exceeded {MaxBytes} bytes; that call failed, the connection stays")]
    public static partial void RedisReplyTooLarge(ILogger logger, string target, string plugin, int maxBytes);

    [LoggerMessage(EventId = 5015, EventName = "redis_database_refused", Level = LogLevel.Warning, Message = "Redis target {Target}: plugin {Plugin} asked for {Choice} in proxy_redis_init, refused with BAD_ARGUMENT: list the database in allowedDatabases of the target to allow it")]
    public static partial void RedisDatabaseRefused(ILogger logger, string target, string plugin, string choice);
}
