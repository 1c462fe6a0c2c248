namespace Gateway.Configuration;

/// <param name="Config">The validated snapshot; null when <paramref name="Errors"/> is not empty.</param>
/// <param name="Errors">Every problem found, each starting with its key path.</param>
/// <param name="ReferencedFiles">
/// Absolute paths of the config file and of every <c>${file:}</c> and <c>passwordFile</c> it names,
/// also when the load failed, so a watcher sees the fix arrive.
/// </param>
public sealed record ConfigLoadResult(GatewayConfig? Config, IReadOnlyList<string> Errors, IReadOnlyList<string> ReferencedFiles);
