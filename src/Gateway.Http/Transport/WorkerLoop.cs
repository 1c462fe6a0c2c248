using System.Collections.Concurrent;

namespace Gateway.Http.Transport;

/// <summary>
/// One worker of the fixed worker set: a thread that runs an event loop. Work posted to it runs one item at a time,
/// never two at once, so a worker can own its plugin VMs and pools without locks (docs/design.md, 'Workers'). It is also
/// the <see cref="SynchronizationContext"/> of everything it runs, so every <c>await</c> in a connection or plugin
/// callback resumes on the same worker.
/// <para>
/// The thread waits in its own epoll (<see cref="Poller"/>) for the sockets of its connections
/// (<see cref="WorkerSocketStream"/>) and completes their reads and writes itself, continuations included, then runs
/// what was posted. A post from its own thread is just queued. A post from the runtime's socket event thread or the
/// thread pool (a timer, an accept, a reply on a TLS Redis connection) finds the worker either busy, and wakes its loop through an eventfd,
/// or asleep in its poll with nothing queued: then the posting thread runs the worker's queue itself, right there, as
/// the worker, and no thread is woken. Other threads (client libraries' own) and other workers never borrow it.
/// </para>
/// <para>
/// The worker also keeps its connections' deadlines (<see cref="Deadlines"/>): each turn fires those that are due, and
/// an idle worker sleeps in its poll until the earliest one rather than waking on a timer thread's post.
/// </para>
/// </summary>
public sealed class WorkerLoop : SynchronizationContext, IDisposable
{
    /// <summary>Posted items run per turn before the loop polls its sockets again, so a busy queue cannot starve them.</summary>
    private const int ItemsPerTurn = 1024;

    [ThreadStatic]
    private static WorkerLoop? t_running;

    // Who runs the worker: its own thread, nobody (the thread waits in its poll with nothing queued), or a posting thread.
    private const int Running = 0;
    private const int Asleep = 1;
    private const int Borrowed = 2;

    /// <summary>0 not yet known, 1 yes, 2 no: whether the current thread is the runtime's socket event thread.</summary>
    [ThreadStatic]
    private static int t_socketEventThread;

    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private int _state;
    private volatile bool _disposed;
    private TaskScheduler? _scheduler;

    public WorkerLoop(int index)
    {
        Index = index;
        Poller = new SocketPoller();
        Deadlines = new WorkerDeadlines(this);
        new Thread(Run) { IsBackground = true, Name = index >= 0 ? $"worker {index}" : "worker" }.Start();
    }

    public int Index { get; }

    /// <summary>Called with any exception a work item lets escape; the worker goes on with the next item.</summary>
    public Action<Exception>? OnUnhandledException { get; set; }

    /// <summary>The worker's epoll: its connections' sockets.</summary>
    internal SocketPoller Poller { get; }

    /// <summary>The deadlines of this worker's connections, run on its own clock.</summary>
    public WorkerDeadlines Deadlines { get; }

    /// <summary>Spare buffers of its connections' inputs.</summary>
    internal BufferShelf InputBuffers { get; } = new(SocketPipeReader.BufferSize);

    /// <summary>Spare buffers of its connections' outputs.</summary>
    internal BufferShelf OutputBuffers { get; } = new(SocketPipeWriter.BufferSize);

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
        if (t_running == this)
        {
            return;
        }
        if (t_running is null && (Thread.CurrentThread.IsThreadPoolThread || IsSocketEventThread)
            && Interlocked.CompareExchange(ref _state, Borrowed, Asleep) == Asleep)
        {
            RunBorrowed();
        }
        else
        {
            Poller.Wake();
        }
    }

    /// <summary>Runs <paramref name="action"/> on the worker.</summary>
    public void Post(Action action) => Post(static s => ((Action)s!)(), action);

    /// <summary>Starts <paramref name="work"/> on the worker and completes with it.</summary>
    public Task RunAsync(Func<Task> work) => RunAsync(async () =>
    {
        await work();
        return true;
    });

    /// <summary>Starts <paramref name="work"/> on the worker and completes with its result.</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(async () =>
        {
            try
            {
                done.TrySetResult(await work());
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
        _disposed = true;
        Poller.Wake();
    }

    private void Run()
    {
        SetSynchronizationContext(this);
        t_running = this;
        Action runPosted = RunPosted;
        // Nothing a worker runs keeps AsyncLocal state, so its async frames capture no execution context: resuming one
        // is its MoveNext, not a run under the default context, and its timers capture none either.
        using (ExecutionContext.SuppressFlow())
        {
            while (!_disposed)
            {
                bool idle = _queue.IsEmpty;
                int timeout = 0;
                if (idle)
                {
                    // Asleep until a socket event, a post, or the earliest deadline.
                    timeout = Deadlines.SleepTimeout();
                    Volatile.Write(ref _state, Asleep);
                }
                int count = Poller.Wait(timeout);
                if (idle)
                {
                    Reclaim();
                    Deadlines.Awake();
                }
                Deadlines.BeginTurn();
                Poller.Dispatch(count, runPosted, OnUnhandledException);
                Deadlines.RunExpired();
                RunPosted();
            }
        }
        Poller.Dispose();
    }

    /// <summary>Takes the worker back for its own thread, waiting out a posting thread that runs it meanwhile.</summary>
    private void Reclaim()
    {
        var spinner = default(SpinWait);
        while (Interlocked.CompareExchange(ref _state, Running, Asleep) != Asleep)
        {
            spinner.SpinOnce();
        }
    }

    /// <summary>Runs the queue on the posting thread, as the worker, and gives the worker back asleep.</summary>
    private void RunBorrowed()
    {
        SynchronizationContext? previous = Current;
        SetSynchronizationContext(this);
        t_running = this;
        // As on the worker's own thread: what starts here (an accepted connection) captures no execution context, so its
        // frames resume with a plain MoveNext wherever they resume.
        bool suppress = !ExecutionContext.IsFlowSuppressed();
        if (suppress)
        {
            ExecutionContext.SuppressFlow();
        }
        try
        {
            Deadlines.BeginTurn();
            RunPosted();
        }
        finally
        {
            if (suppress)
            {
                ExecutionContext.RestoreFlow();
            }
            t_running = null;
            SetSynchronizationContext(previous);
            Volatile.Write(ref _state, Asleep);
        }
        // What others posted meanwhile (they found the worker borrowed) or what one turn left: the worker's thread takes it.
        if (!_queue.IsEmpty)
        {
            Poller.Wake();
        }
    }

    /// <summary>
    /// The runtime's epoll threads (".NET Sockets") run socket completions themselves when inline completions are on: a
    /// worker borrowed there handles a TLS Redis reply or an accepted connection on the thread that saw it.
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

    private void RunPosted()
    {
        for (int i = 0; i < ItemsPerTurn && _queue.TryDequeue(out var item); i++)
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
    }
}
