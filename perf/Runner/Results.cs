using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>
/// One load phase of one target in one round, with the proxy's CPU time over it (in total, and apart in user mode
/// and in the kernel) and, for a gateway, what its managed heap did (null where it serves no heap counters).
/// </summary>
public sealed record PhaseResult(
    string Phase, LoadResult Load, double? CpuMicrosecondsPerRequest, double? ContextSwitchesPerRequest,
    double? UserMicrosecondsPerRequest = null, double? KernelMicrosecondsPerRequest = null, HeapPerRequest? Heap = null);

/// <summary>Everything measured for one target in one round: every repeat goes to the JSON report.</summary>
public sealed class TargetRound
{
    public required string Target { get; init; }

    public required int Round { get; init; }

    public double? StartupMs { get; set; }

    public long? RssStartKiB { get; set; }

    public long? RssWarmKiB { get; set; }

    public long? RssPeakKiB { get; set; }

    public List<PhaseResult> Phases { get; } = [];

    public string? Error { get; set; }

    public PhaseResult? Find(string phase)
    {
        foreach (var result in Phases)
        {
            if (result.Phase == phase)
            {
                return result;
            }
        }
        return null;
    }
}

/// <summary>A physical floor measured in the same run: one loopback round trip to Redis or PostgreSQL.</summary>
public sealed record FloorResult(string Name, int Round, LatencySummary Latency, string? Error);

/// <summary>Memory held per idle keep-alive connection: RSS delta over the connections held.</summary>
public sealed record IdleMemoryResult(string Target, int Requested, int Held, long RssBeforeKiB, long RssAfterKiB, string? Error)
{
    public double? BytesPerConnection => Error is null && Held > 0 ? (RssAfterKiB - RssBeforeKiB) * 1024.0 / Held : null;
}

/// <summary>Facts about the machine and the software, so a report can be read a year later.</summary>
public sealed record MachineFacts(
    string Cpu, int Cores, string Kernel, long MemoryKiB, string Dotnet, string GitCommit,
    IReadOnlyDictionary<string, string> Versions, string Pinning, string LoadAverageBefore, string LoadAverageAfter, int Nice, string AutogroupNice);
