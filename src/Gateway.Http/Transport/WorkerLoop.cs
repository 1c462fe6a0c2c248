using System.Collections.Concurrent;

namespace Gateway.Http.Transport;

/// <summary>
/// One worker of the fixed worker set: a dedicated thread that runs posted work items one at a time.
/// It installs itself as the thread's <see cref="SynchronizationContext"/>, so every <c>await</c> in a
/// connection or plugin callback resumes on this thread. That is what lets a worker own its plugin VMs
/// without locks (DESIGN §1): whatever completes elsewhere (socket I/O, Redis, SQL) is posted back here.
/// </summary>
public sealed class WorkerLoop : SynchronizationContext, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue =
        new(new ConcurrentQueue<(SendOrPostCallback, object?)>());
    private readonly Thread _thread;

    public WorkerLoop(int index)
    {
        Index = index;
        _thread = new Thread(Run) { IsBackground = true, Name = $"gateway-worker-{index}" };
        _thread.Start();
    }

    public int Index { get; }

    /// <summary>True when the caller is running on this worker's thread.</summary>
    public bool IsCurrent => Thread.CurrentThread == _thread;

    public override void Post(SendOrPostCallback d, object? state)
    {
        if (!_queue.IsAddingCompleted)
        {
            try
            {
                _queue.Add((d, state));
            }
            catch (InvalidOperationException)
            {
                // Completed concurrently: the worker is shutting down and the item is dropped.
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> on the worker thread.</summary>
    public void Post(Action action) => Post(static s => ((Action)s!)(), action);

    /// <summary>Starts <paramref name="work"/> on the worker thread and completes with it.</summary>
    public Task RunAsync(Func<Task> work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(async () =>
        {
            try
            {
                await work();
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        });
        return done.Task;
    }

    /// <summary>Synchronous sends would block the caller on the worker; the gateway never needs them.</summary>
    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("A worker never runs synchronous sends.");

    public override SynchronizationContext CreateCopy() => this;

    public void Dispose()
    {
        _queue.CompleteAdding();
        if (!IsCurrent)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }

    private void Run()
    {
        SetSynchronizationContext(this);
        foreach (var (callback, state) in _queue.GetConsumingEnumerable())
        {
            callback(state);
        }
    }
}
