namespace Gateway.Backends.Tests;

public sealed class CircuitBreakerTests
{
    [Fact]
    public void ConsecutiveFailures_OpenTheBreaker_AndASuccessInBetweenResetsTheCount()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 3, OpenMs = 60_000 });
        Assert.False(breaker.RecordFailure());
        Assert.False(breaker.RecordFailure());
        breaker.RecordSuccess();
        Assert.False(breaker.RecordFailure());
        Assert.False(breaker.RecordFailure());
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryEnter());
        Assert.True(breaker.RecordFailure());
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.TryEnter());
    }

    [Fact]
    public async Task AfterOpenPeriod_ExactlyOneProbeIsLetThrough_AndItsResultDecides()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 1, OpenMs = 50 });
        Assert.True(breaker.RecordFailure());
        Assert.False(breaker.TryEnter());
        await Task.Delay(120, TestContext.Current.CancellationToken);

        Assert.True(breaker.TryEnter());
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.False(breaker.TryEnter());

        // A failed probe re-opens for another period.
        Assert.True(breaker.RecordFailure());
        Assert.False(breaker.TryEnter());
        await Task.Delay(120, TestContext.Current.CancellationToken);
        Assert.True(breaker.TryEnter());
        breaker.RecordSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryEnter());
        Assert.True(breaker.TryEnter());
    }
}
