using Gateway.Http.Transport;

namespace Gateway.Http.Tests.Transport;

/// <summary>
/// Continuations scheduled on a worker: a client library's task completed with RunContinuationsAsynchronously reaches
/// the worker from the thread that completed it, without a thread-pool hand-off: the worker's own thread, or, when the
/// worker sleeps and the completing thread is the pool's, that thread itself, running as the worker.
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

    [Fact]
    public async Task CompletedOnThePool_WhileTheWorkerSleeps_TheContinuationRunsThereAsTheWorker()
    {
        using var loop = new WorkerLoop(0);
        // Long enough for the worker's thread to find nothing to do and wait in its poll.
        await Task.Delay(100, TestContext.Current.CancellationToken);
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Thread? ranOn = null;
        bool asWorker = false;
        var continuation = source.Task.ContinueWith(_ =>
        {
            ranOn = Thread.CurrentThread;
            asWorker = loop.IsCurrent;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, loop.Scheduler);

        Thread? completedOn = null;
        await Task.Run(() =>
        {
            completedOn = Thread.CurrentThread;
            source.SetResult(1);
        }, TestContext.Current.CancellationToken);
        await continuation.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Same(completedOn, ranOn);
        Assert.True(asWorker);
    }
}
