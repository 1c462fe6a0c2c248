using Gateway.Perf.Load;

namespace Gateway.Perf.Tests.Loaders;

/// <summary>
/// Runs a loader on its own thread with a bound on how long it may take: a loader that never returns fails its test
/// instead of hanging the suite.
/// </summary>
public static class BoundedRun
{
    /// <summary>How far past its duration a run may end: on loopback nothing it waits for (a connect, a refusal) takes longer.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(5);

    public static RequestTemplate Template(int port) => new("127.0.0.1", port, "/bench", [new("Accept", "*/*")]);

    public static Task<LoadResult> RunAsync(this Loader loader, RequestTemplate template, TimeSpan duration, int connections)
    {
        Func<LoadResult> run = loader switch
        {
            Loader.Epoll => new SaturationRun(template, duration, connections).Run,
            Loader.ThreadPerConnection => new ClosedLoopRun(template, duration, connections).Run,
            _ => throw new ArgumentOutOfRangeException(nameof(loader)),
        };
        return Task.Factory.StartNew(run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .WaitAsync(duration + HangLimit, TestContext.Current.CancellationToken);
    }
}
