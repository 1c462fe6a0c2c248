using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>What the profile stage measured for one target.</summary>
public sealed record TargetProfile(string Target, IReadOnlyList<SyscallCensusResult> Census, IReadOnlyList<CpuProfileResult> CpuProfiles, string? Error);

/// <summary>
/// After the rounds, the gateway and the nginx peer once more, each alone on its CPU, for the figures that do not
/// depend on machine load: system calls per response by kind and a sampled CPU profile, each at 64 and 256
/// connections. Each is started fresh and warmed up as in a round.
/// </summary>
public static class ProfileStage
{
    public static readonly string[] Profiled = ["gateway", "nginx"];

    public static TargetProfile Run(BenchTarget target, BenchPlan plan, ApiKeyRange keys, string scratch, string symbolFolder, TextWriter progress)
    {
        using var process = BenchSession.StartWarmedUp(target, keys, plan, 0, out var request, out bool answered);
        if (!answered)
        {
            return new TargetProfile(target.Name, [], [], "did not answer: " + process.Tail());
        }
        // Traced, the target runs several times slower: a longer phase keeps the count over thousands of responses.
        var traced = TimeSpan.FromSeconds(Math.Max(1.5, plan.Phase.TotalSeconds));
        var census = new List<SyscallCensusResult>();
        foreach (var connections in new[] { 64, 256 })
        {
            var result = SyscallCensus.Measure(process.Pid, connections, scratch, () => new SaturationRun(request, traced, connections).Run());
            census.Add(result);
            progress.WriteLine(result.Error is null
                ? $"  syscalls {target.Name}, {connections} connections: {result.TotalPerRequest:F2} per response over {result.Responses} responses"
                : $"  syscalls {target.Name}, {connections} connections: {result.Error}");
        }
        var profiles = new List<CpuProfileResult>();
        foreach (var connections in new[] { 64, 256 })
        {
            var profile = CpuProfile.Measure(process.Pid, connections, scratch, symbolFolder, () => new SaturationRun(request, plan.Phase, connections).Run());
            profiles.Add(profile);
            progress.WriteLine(profile.Error is null
                ? $"  profile {target.Name}, {connections} connections: {profile.Samples} samples, kernel {profile.KernelSelfPercent:F0}% self, " +
                  $"unresolved {profile.UnresolvedSelfPercent:F1}%, {profile.CpuMicrosecondsPerRequest:F1} CPU µs/response"
                : $"  profile {target.Name}, {connections} connections: {profile.Error}");
        }
        return new TargetProfile(target.Name, census, profiles, null);
    }
}
