using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>
/// One thing under measurement: the direct path to the upstream, a peer proxy, or
/// the gateway with a set of plugins. <see cref="Launch"/> is null for the direct
/// path. A target whose prerequisites are missing keeps a reason and is reported
/// as "not run", never dropped.
/// </summary>
public sealed class BenchTarget
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    /// <summary>The target this one's added latency is measured against in the same round.</summary>
    public string? Baseline { get; init; }

    /// <summary>Starts the target listening on the given port in front of the upstream; null for the direct path.</summary>
    public Func<int, ChildProcess>? Launch { get; init; }

    /// <summary>Starts the target as <see cref="Launch"/> does, under a command given the program's path (valgrind).</summary>
    public Func<int, Func<string, IReadOnlyList<string>>, ChildProcess>? LaunchUnder { get; init; }

    /// <summary>Request headers the scenario needs (an API key, a client id).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>When set, every request carries a new API key "key-N": each one is a cache miss.</summary>
    public bool FreshApiKeyPerRequest { get; init; }

    /// <summary>Saturation is skipped where it would measure something else than the proxy (one SQL query per request).</summary>
    public bool Saturate { get; init; } = true;

    public string? NotRunReason { get; set; }

    /// <summary>A gateway: its admin listener serves `/metrics`, whose heap counters are read around each phase.</summary>
    public bool ServesMetrics { get; init; }

    /// <summary>
    /// Fresh keys of this target's own database when it is not the shared one: every database is seeded with the
    /// same keys, and drawing both databases' misses from one range would run out of seeded keys mid-run.
    /// </summary>
    public ApiKeyRange? OwnKeys { get; init; }

    public RequestTemplate Request(int port, ApiKeyRange keys, long reserve) => FreshApiKeyPerRequest
        ? new RequestTemplate("127.0.0.1", port, "/", Headers, "x-api-key", "key-", (OwnKeys ?? keys).Take(reserve))
        : new RequestTemplate("127.0.0.1", port, "/", Headers);
}

/// <summary>Hands out ranges of seeded API keys so no key is ever sent twice in a run (every miss stays a miss).</summary>
public sealed class ApiKeyRange
{
    // Key 0 is the one hit scenarios reuse: misses start after it.
    private long _next = 1;

    public long Take(long count)
    {
        var start = _next;
        _next += count;
        return start;
    }
}
