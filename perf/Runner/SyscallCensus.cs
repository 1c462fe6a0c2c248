using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>One system call's count over a traced phase, per response.</summary>
public sealed record SyscallRate(string Name, long Calls, long Errors, double PerRequest, double ErrorsPerRequest);

/// <summary>The system calls a target made while serving one closed-loop phase, by kind, with the responses it served.</summary>
public sealed record SyscallCensusResult(int Connections, long Responses, double AchievedRate, IReadOnlyList<SyscallRate> Calls, string? Error)
{
    public double TotalPerRequest => Calls.Sum(c => c.PerRequest);
}

/// <summary>
/// Counts a target's system calls by kind over a load phase with `perf trace -s` attached to its PID: every thread,
/// counted in the kernel, without stopping the process as strace does. Tracing slows the target, so its request
/// rate here is not a throughput figure; calls per response are what it is for.
/// </summary>
public static partial class SyscallCensus
{
    public static SyscallCensusResult Measure(int pid, int connections, string scratch, Func<LoadResult> load)
    {
        var output = Path.Combine(scratch, $"syscalls-{pid}-{connections}.txt");
        using var tool = AttachedTool.Start(["trace", "-s", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", output], scratch, out var problem);
        if (tool is null)
        {
            return new SyscallCensusResult(connections, 0, 0, [], problem);
        }
        var result = load();
        var printed = tool.Finish();
        if (!File.Exists(output))
        {
            return new SyscallCensusResult(connections, result.Completed, result.AchievedRate, [], "perf trace wrote nothing: " + printed);
        }
        var totals = Parse(File.ReadAllLines(output));
        if (result.Completed == 0 || totals.Count == 0)
        {
            return new SyscallCensusResult(connections, result.Completed, result.AchievedRate, [], "no responses or no system calls seen: " + printed);
        }
        var rates = totals
            .Select(t => new SyscallRate(t.Key, t.Value.Calls, t.Value.Errors, (double)t.Value.Calls / result.Completed, (double)t.Value.Errors / result.Completed))
            .OrderByDescending(r => r.Calls)
            .ToList();
        return new SyscallCensusResult(connections, result.Completed, result.AchievedRate, rates, null);
    }

    /// <summary>Sums `perf trace -s`'s per-thread tables ("name calls errors total min avg max stddev") by system call.</summary>
    public static Dictionary<string, (long Calls, long Errors)> Parse(IEnumerable<string> lines)
    {
        var totals = new Dictionary<string, (long Calls, long Errors)>();
        foreach (var line in lines)
        {
            var match = Row().Match(line);
            if (!match.Success)
            {
                continue;
            }
            var name = match.Groups[1].Value;
            var calls = long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            var errors = long.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture);
            totals[name] = totals.TryGetValue(name, out var sum) ? (sum.Calls + calls, sum.Errors + errors) : (calls, errors);
        }
        return totals;
    }

    [GeneratedRegex(@"^\s+([a-z_][a-z0-9_]*)\s+(\d+)\s+(\d+)\s+\d+\.\d+\s")]
    private static partial Regex Row();
}
