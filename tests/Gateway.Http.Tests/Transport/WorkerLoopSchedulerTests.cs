using Gateway.Http.Transport;

namespace Gateway.Http.Tests.Transport;

/// <summary>
/// Continuations scheduled on a worker: a client library's task completed with RunContinuationsAsynchronously
/// reaches the worker's thread from the thread that completed it, without a thread-pool hand-off.
/// </summary>
public sealed class WorkerLoopSchedulerTests
{
    [Fact]
    public async Task CompletedOnAnotherThread_TheContinuationRunsOnTheWorkersOwnThread()
    {
        using var loop = new WorkerLoop(0);
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? ranOn = null;
        bool asWorker = false;
        var continuation = source.Task.ContinueWith(_ =>
        {
            ranOn = Thread.CurrentThread.Name;
            asWorker = loop.IsCurrent;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, loop.Scheduler);

        var libraryThread = new Thread(() => source.SetResult(1)) { Name = "client library" };
        libraryThread.Start();
        libraryThread.Join();
        await continuation.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal("worker 0", ranOn);
        Assert.True(asWorker);
    }
}
