using Gateway.Http.Transport;

namespace Gateway.Http.Tests.Transport;

/// <summary>
/// Continuations scheduled on a worker: a client library's task completed with RunContinuationsAsynchronously
/// reaches the worker from the thread that completed it, without a thread-pool hand-off.
/// </summary>
public sealed class WorkerLoopSchedulerTests
{
    [Fact]
    public async Task CompletedOnAnEpollThread_TheContinuationRunsThereAsTheWorker()
    {
        using var loop = new WorkerLoop(0);
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Thread? ranOn = null;
        bool asWorker = false;
        var continuation = source.Task.ContinueWith(_ =>
        {
            ranOn = Thread.CurrentThread;
            asWorker = loop.IsCurrent;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, loop.Scheduler);

        // The runtime names its epoll threads so; the worker loop drains inline on them.
        var eventThread = new Thread(() => source.SetResult(1)) { Name = ".NET Sockets" };
        eventThread.Start();
        eventThread.Join();
        await continuation;

        Assert.Same(eventThread, ranOn);
        Assert.True(asWorker);
    }

    [Fact]
    public async Task CompletedOnAnyOtherThread_TheContinuationStillRunsAsTheWorker()
    {
        using var loop = new WorkerLoop(0);
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var continuation = source.Task.ContinueWith(_ => loop.IsCurrent, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, loop.Scheduler);

        var libraryThread = new Thread(() => source.SetResult(1)) { Name = "client library" };
        libraryThread.Start();
        libraryThread.Join();

        Assert.True(await continuation.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }
}
