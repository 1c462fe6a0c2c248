using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Logging;

/// <summary>Source-generated log messages of the plugin host (AOT-clean, no formatting on disabled levels).</summary>
internal static partial class PluginLog
{
    // The guest's text has its own key: "message" is the formatted record, and a second "message" breaks JSON consumers.
    [LoggerMessage(EventId = 4000, Message = "[{Plugin}] {GuestMessage}")]
    public static partial void GuestMessage(ILogger logger, LogLevel level, string plugin, string guestMessage);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "plugin {Plugin} failed on worker {Worker}: {Reason}")]
    public static partial void VmFailed(ILogger logger, string plugin, int worker, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "plugin {Plugin} VM recreated on worker {Worker} in {Milliseconds:F3} ms")]
    public static partial void VmRecreated(ILogger logger, string plugin, int worker, double milliseconds);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "plugin {Plugin} VM could not be recreated on worker {Worker}: {Reason}")]
    public static partial void VmRecreateFailed(ILogger logger, string plugin, int worker, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "plugin {Plugin} exports {Export} with an unexpected type; treated as absent")]
    public static partial void CallbackMistyped(ILogger logger, string plugin, string export);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "plugin {Plugin} called {Module}.{Import}, which this host does not implement")]
    public static partial void StubCalled(ILogger logger, string plugin, string module, string import);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Debug, Message = "plugin {Plugin} passed credentials to proxy_redis_init; ignored, the gateway authenticates itself")]
    public static partial void RedisCredentialsIgnored(ILogger logger, string plugin);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "plugin {Plugin} called foreign function {Function}, which this host does not provide; it gets NOT_FOUND")]
    public static partial void UnknownForeignFunction(ILogger logger, string plugin, string function);

    [LoggerMessage(EventId = 4030, Level = LogLevel.Warning, Message = "plugin {Plugin} called proxy_redis_init with unknown Redis cluster name {Name}; configured targets and aliases: {Configured}")]
    public static partial void RedisUnknownTarget(ILogger logger, string plugin, string name, string configured);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "compiled-module cache entry {Path} is unusable and is replaced: {Reason}")]
    public static partial void ModuleCacheEntryUnusable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "compiled-module cache directory {Directory} cannot be written; plugins are compiled at every start: {Reason}")]
    public static partial void ModuleCacheUnwritable(ILogger logger, string directory, string reason);
}
