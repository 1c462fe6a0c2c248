namespace Gateway.Backends.Sql;

/// <summary>
/// One plugin's use of one database: at most its share of the pool's connections in use at once,
/// and its own circuit breaker, so a plugin flooding the database with slow or failing statements
/// exhausts and opens only its own lane while other plugins keep their connections.
/// </summary>
internal sealed class SqlPluginLane(string plugin, int share, CircuitBreakerOptions breaker)
{
    private readonly SemaphoreSlim _slots = new(share, share);

    public string Plugin { get; } = plugin;

    public CircuitBreaker Breaker { get; } = new(breaker);

    /// <summary>Waits for a slot within the call's deadline; false when none freed up in time.</summary>
    public Task<bool> TryEnterAsync(TimeSpan timeout) => _slots.WaitAsync(timeout);

    /// <summary>Called only once the statement has really ended on the server (not when the caller gave up).</summary>
    public void Exit() => _slots.Release();
}
