namespace Gateway.Http.Transport;

/// <summary>
/// Runs task continuations on a worker. A client library that completes its tasks with
/// <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/> hands every continuation to the thread pool,
/// one wake-up per reply, unless the continuation names a scheduler: then the completing thread (usually the
/// epoll thread that read the reply) queues it here, and the worker runs it without that hand-off.
/// </summary>
internal sealed class WorkerLoopScheduler : TaskScheduler
{
    private readonly WorkerLoop _loop;
    private readonly SendOrPostCallback _run;

    public WorkerLoopScheduler(WorkerLoop loop)
    {
        _loop = loop;
        _run = task => TryExecuteTask((Task)task!);
    }

    protected override void QueueTask(Task task) => _loop.Post(_run, task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        _loop.IsCurrent && TryExecuteTask(task);

    /// <summary>Only for debuggers, which may be told the list is unavailable.</summary>
    protected override IEnumerable<Task>? GetScheduledTasks() => null;
}
