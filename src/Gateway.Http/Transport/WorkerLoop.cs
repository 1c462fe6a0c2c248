using System.Collections.Concurrent;

namespace Gateway.Http.Transport;

/// <summary>
/// One worker of the fixed worker set: a serial executor. Work posted to it runs one item at a time, never
/// two at once, so a worker can own its plugin VMs and pools without locks (docs/design.md, 'Workers'). It is also the
/// <see cref="SynchronizationContext"/> of everything it runs, so every <c>await</c> in a connection or plugin
/// callback resumes on the same worker.
/// <para>
/// It has no thread of its own: when idle, the thread that posts a socket completion (the runtime's epoll
/// thread with inline completions, or a thread-pool thread) runs the queue itself, so a completion reaches
/// its connection without a hand-off between threads; otherwise the queue is drained by one thread-pool work
/// item. Posts from other threads (client libraries' own I/O threads) and from inside another worker's
/// drain are never run inline, so nobody else's thread is borrowed and no caller sees a callback run before
/// its Post returns by surprise.
/// </para>
/// </summary>
public sealed class WorkerLoop : SynchronizationContext, IThreadPoolWorkItem, IDisposable
{
    [ThreadStatic]
    private static WorkerLoop? t_running;

    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private int _scheduled;
    private volatile bool _disposed;
    private TaskScheduler? _scheduler;

    /// <summary>0 not yet known, 1 yes, 2 no: whether the current thread is a socket event thread.</summary>
    [ThreadStatic]
    private static int t_socketEventThread;

    /// <summary>
    /// The runtime's epoll threads (".NET Sockets") run socket completions themselves when inline completions
    /// are on; a worker drained there handles its I/O on the thread that saw it, as an event loop does.
    /// </summary>
    private static bool IsSocketEventThread
    {
        get
        {
            if (t_socketEventThread == 0)
            {
                t_socketEventThread = Thread.CurrentThread.Name == ".NET Sockets" ? 1 : 2;
            }
            return t_socketEventThread == 1;
        }
    }

    public WorkerLoop(int index)
    {
        Index = index;
    }

    public int Index { get; }

    /// <summary>Called with any exception a work item lets escape; the worker goes on with the next item.</summary>
    public Action<Exception>? OnUnhandledException { get; set; }

    /// <summary>Runs continuations on this worker (see <see cref="WorkerLoopScheduler"/>).</summary>
    public TaskScheduler Scheduler => _scheduler ??= new WorkerLoopScheduler(this);

    /// <summary>
    /// Throws unless the caller runs as this worker. The exchange awaits its own pooled steps without the captured
    /// context (ConfigureAwait(false)): a step that completes on the worker then resumes its caller there at once,
    /// instead of posting the continuation through the queue, level by level. A step that completed anywhere else would
    /// leave the exchange running off its worker, so the exchange checks after such awaits and fails the request instead.
    /// </summary>
    public void EnsureCurrent()
    {
        if (!IsCurrent)
        {
            throw new InvalidOperationException("an exchange step resumed off its worker");
        }
    }

    /// <summary>True when the caller is running as this worker.</summary>
    public bool IsCurrent => t_running == this;

    public override void Post(SendOrPostCallback d, object? state)
    {
        if (_disposed)
        {
            return;
        }
        _queue.Enqueue((d, state));
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
        {
            return;
        }
        if (t_running is null && (Thread.CurrentThread.IsThreadPoolThread || IsSocketEventThread))
        {
            Drain();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Runs <paramref name="action"/> on the worker.</summary>
    public void Post(Action action) => Post(static s => ((Action)s!)(), action);

    /// <summary>Starts <paramref name="work"/> on the worker and completes with it.</summary>
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

    void IThreadPoolWorkItem.Execute() => Drain();

    public void Dispose() => _disposed = true;

    private void Drain()
    {
        SynchronizationContext? previous = Current;
        SetSynchronizationContext(this);
        t_running = this;
        try
        {
            while (true)
            {
                while (_queue.TryDequeue(out var item))
                {
                    try
                    {
                        item.Callback(item.State);
                    }
                    catch (Exception e) when (OnUnhandledException is not null)
                    {
                        OnUnhandledException(e);
                    }
                }
                Volatile.Write(ref _scheduled, 0);
                // An item enqueued after the last TryDequeue but before the flag cleared must not be stranded.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
                {
                    return;
                }
            }
        }
        finally
        {
            t_running = null;
            SetSynchronizationContext(previous);
        }
    }
}
