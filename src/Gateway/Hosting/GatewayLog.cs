using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

/// <summary>The gateway's own lifecycle events: start, drain, reloads.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 1, EventName = "started", Level = LogLevel.Information, Message = "gateway started with {Workers} workers in {Milliseconds} ms")]
    public static partial void Started(ILogger logger, int workers, long milliseconds);

    [LoggerMessage(EventId = 2, EventName = "startup_problem", Level = LogLevel.Critical, Message = "cannot start: {Problem}")]
    public static partial void StartupProblem(ILogger logger, string problem);

    [LoggerMessage(EventId = 3, EventName = "draining", Level = LogLevel.Information, Message = "draining {Connections} connections, up to {TimeoutMs} ms")]
    public static partial void Draining(ILogger logger, long connections, int timeoutMs);

    [LoggerMessage(EventId = 4, EventName = "drained", Level = LogLevel.Information, Message = "drain finished; {Remaining} connections still open")]
    public static partial void Drained(ILogger logger, long remaining);

    [LoggerMessage(EventId = 5, EventName = "reload_applied", Level = LogLevel.Information,
        Message = "config reloaded: {Routes} routes, {Clusters} clusters, {Plugins} plugins; {VmGroupsBuilt} plugin VM groups rebuilt, the others kept")]
    public static partial void ReloadApplied(ILogger logger, int routes, int clusters, int plugins, int vmGroupsBuilt);

    [LoggerMessage(EventId = 6, EventName = "reload_refused", Level = LogLevel.Error, Message = "config change refused, {Count} problem(s), the previous config keeps serving: {Problems}")]
    public static partial void ReloadRefused(ILogger logger, int count, string problems);

    [LoggerMessage(EventId = 7, EventName = "worker_move_failed", Level = LogLevel.Error, Message = "a worker failed to take up the new config")]
    public static partial void WorkerMoveFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8, EventName = "database_warm_up_failed", Level = LogLevel.Warning,
        Message = "the reloaded databases could not open their kept connections; they open them on demand")]
    public static partial void DatabaseWarmUpFailed(ILogger logger, Exception exception);
}
