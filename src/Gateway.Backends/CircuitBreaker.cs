namespace Gateway.Backends;

public enum CircuitState
{
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

/// <summary>
/// Consecutive-failure breaker shared by every worker calling one target: opens after
/// <see cref="CircuitBreakerOptions.FailureThreshold"/> failures in a row, rejects calls for
/// <see cref="CircuitBreakerOptions.OpenMs"/>, then lets exactly one probe through (half-open).
/// Lock-free: the state word is only changed by compare-and-swap.
/// </summary>
internal sealed class CircuitBreaker
{
    private readonly int _threshold;
    private readonly long _openMs;
    private int _state;
    private int _consecutiveFailures;
    private long _openUntil; // Environment.TickCount64 milliseconds

    public CircuitBreaker(CircuitBreakerOptions options)
    {
        _threshold = Math.Max(1, options.FailureThreshold);
        _openMs = Math.Max(1, options.OpenMs);
    }

    public CircuitState State => (CircuitState)Volatile.Read(ref _state);

    /// <summary>False when the call must fail fast without touching the backend.</summary>
    public bool TryEnter()
    {
        switch ((CircuitState)Volatile.Read(ref _state))
        {
            case CircuitState.Closed:
                return true;
            case CircuitState.Open:
                if (Environment.TickCount64 < Volatile.Read(ref _openUntil))
                {
                    return false;
                }

                // The first caller after the open period becomes the single half-open probe.
                return Interlocked.CompareExchange(ref _state, (int)CircuitState.HalfOpen, (int)CircuitState.Open) == (int)CircuitState.Open;
            default:
                return false;
        }
    }

    public void RecordSuccess()
    {
        Volatile.Write(ref _consecutiveFailures, 0);
        Volatile.Write(ref _state, (int)CircuitState.Closed);
    }

    /// <returns>True when this failure opened the breaker (so the caller logs it once).</returns>
    public bool RecordFailure()
    {
        var failures = Interlocked.Increment(ref _consecutiveFailures);
        var state = (CircuitState)Volatile.Read(ref _state);
        if (state == CircuitState.HalfOpen || (state == CircuitState.Closed && failures >= _threshold))
        {
            Volatile.Write(ref _openUntil, Environment.TickCount64 + _openMs);
            return Interlocked.Exchange(ref _state, (int)CircuitState.Open) != (int)CircuitState.Open;
        }

        return false;
    }
}
