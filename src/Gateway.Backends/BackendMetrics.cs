using System.Collections.Concurrent;

namespace Gateway.Backends;

/// <summary>
/// The backends' call metrics, owned by the process: a reload that rebuilds the Redis targets and databases hands
/// each target, by name, the series it had, so a counter never goes back to zero while the gateway runs.
/// </summary>
public sealed class BackendMetrics
{
    private readonly ConcurrentDictionary<string, TargetMetrics> _redis = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TargetMetrics> _sql = new(StringComparer.Ordinal);

    internal TargetMetrics Redis(string target, string[] outcomeNames) =>
        _redis.GetOrAdd(target, static (name, names) => new TargetMetrics(name, names), outcomeNames);

    internal TargetMetrics Sql(string database, string[] statusNames) =>
        _sql.GetOrAdd(database, static (name, names) => new TargetMetrics(name, names), statusNames);
}
