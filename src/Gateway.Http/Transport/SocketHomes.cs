namespace Gateway.Http.Transport;

/// <summary>
/// The event loops that connections to backends (Redis) live on, one connection to each in turn: the gateway's workers,
/// so that a worker reads the replies to its own calls on its own thread (with one worker, every reply). A process
/// without workers (a tool, a test) gives its connections one loop of their own (<see cref="OwnLoop"/>).
/// </summary>
public sealed class SocketHomes
{
    private static readonly Lazy<SocketHomes> s_ownLoop = new(() => new SocketHomes([new WorkerLoop(-1)]));

    private readonly IReadOnlyList<WorkerLoop> _loops;
    private int _next = -1;

    public SocketHomes(IReadOnlyList<WorkerLoop> loops)
    {
        ArgumentOutOfRangeException.ThrowIfZero(loops.Count);
        _loops = loops;
    }

    /// <summary>One loop for every process without workers; it lives as long as the process.</summary>
    public static SocketHomes OwnLoop => s_ownLoop.Value;

    /// <summary>The loop for the next connection.</summary>
    public WorkerLoop Next() => _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Count)];
}
