namespace Gateway.Backends.Redis;

/// <summary>
/// One call in flight: what to send, where its reply goes, and its deadline. Finished exactly once, by the reply
/// or by the deadline sweep, whichever claims it first; the loser only observes the late outcome.
/// </summary>
internal sealed class RedisCall
{
    private int _finished;

    public RedisCall(RedisPluginClient client, RedisConnection connection, long start, long deadline, RedisCallCompletion completion)
    {
        Client = client;
        Connection = connection;
        Start = start;
        Deadline = deadline;
        Completion = completion;
    }

    public RedisPluginClient Client { get; }

    public RedisConnection Connection { get; }

    /// <summary>Stopwatch timestamps.</summary>
    public long Start { get; }

    public long Deadline { get; }

    public RedisCallCompletion Completion { get; }

    public string Command { get; set; } = "";

    public object[] Arguments { get; set; } = [];

    public int Database { get; set; }

    public TaskScheduler Scheduler { get; set; } = TaskScheduler.Default;

    public bool IsFinished => Volatile.Read(ref _finished) != 0;

    // The deadline sweep's list; guarded by its lock.
    public RedisCall? Previous { get; set; }

    public RedisCall? Next { get; set; }

    public bool Listed { get; set; }

    public bool TryClaim() => Interlocked.Exchange(ref _finished, 1) == 0;
}
