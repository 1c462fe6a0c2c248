using System.Globalization;
using System.Text;

namespace Gateway.Perf.Runner;

/// <summary>The report's section on where a request's CPU goes: system calls by kind, context switches, top frames.</summary>
public static class ProfileReport
{
    private const int TopFrames = 25;

    public static string Write(IReadOnlyList<TargetProfile> profiles, RunSummary s)
    {
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        if (profiles.Count == 0)
        {
            return "";
        }
        md.AppendLine("## Where a request's CPU goes: system calls, context switches, profile");
        md.AppendLine();
        md.AppendLine("System calls per response, by kind, counted with `perf trace -s` attached to the target over one closed-loop phase " +
                      "(all threads; errors, e.g. EAGAIN, in parentheses). Tracing slows the target, so the rates of these phases are not throughput " +
                      "figures. Context switches per response are the untraced saturation phases' medians from the rounds above.");
        md.AppendLine();
        var columns = new List<(string Title, SyscallCensusResult Census)>();
        foreach (var connections in new[] { 64, 256 })
        {
            foreach (var profile in profiles)
            {
                foreach (var census in profile.Census)
                {
                    if (census.Connections == connections && census.Error is null)
                    {
                        columns.Add(($"{profile.Target}, {connections} conns", census));
                    }
                }
            }
        }
        foreach (var profile in profiles)
        {
            foreach (var census in profile.Census)
            {
                if (census.Error is not null)
                {
                    md.AppendLine($"- {profile.Target}, {census.Connections} connections: not measured: {census.Error}");
                }
            }
            if (profile.Error is not null)
            {
                md.AppendLine($"- {profile.Target}: not measured: {profile.Error}");
            }
        }
        if (columns.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("| system call | " + string.Join(" | ", columns.Select(c => c.Title)) + " |");
            md.AppendLine("|---|" + string.Concat(columns.Select(_ => "---|")));
            var names = columns.SelectMany(c => c.Census.Calls).Where(r => r.PerRequest >= 0.01).Select(r => r.Name).Distinct()
                .OrderByDescending(n => columns.Max(c => c.Census.Calls.FirstOrDefault(r => r.Name == n)?.PerRequest ?? 0)).ToList();
            foreach (var name in names)
            {
                md.Append($"| {name} |");
                foreach (var (_, census) in columns)
                {
                    var rate = census.Calls.FirstOrDefault(r => r.Name == name);
                    md.Append(rate is null ? " — |" : string.Create(inv, $" {rate.PerRequest:F2}{(rate.Errors > 0 ? $" ({rate.ErrorsPerRequest:F2})" : "")} |"));
                }
                md.AppendLine();
            }
            md.AppendLine("| **all** |" + string.Concat(columns.Select(c => string.Create(inv, $" **{c.Census.TotalPerRequest:F2}** |"))));
            md.AppendLine("| responses traced |" + string.Concat(columns.Select(c => string.Create(inv, $" {c.Census.Responses} |"))));
            md.AppendLine("| context switches/response (untraced) |" + string.Concat(columns.Select(c =>
                " " + (s.Phase(c.Title.Split(',')[0], c.Census.Connections == 64 ? Phases.Saturation64 : Phases.Saturation256, r => r.ContextSwitchesPerRequest)?.Format("F2") ?? "—") + " |")));
            md.AppendLine("| CPU µs/response (untraced) |" + string.Concat(columns.Select(c =>
                " " + (s.Phase(c.Title.Split(',')[0], c.Census.Connections == 64 ? Phases.Saturation64 : Phases.Saturation256, r => r.CpuMicrosecondsPerRequest)?.Format("F1") ?? "—") + " |")));
        }
        LayerTable(md, profiles);
        foreach (var (profile, cpu) in profiles.SelectMany(p => p.CpuProfiles.Select(c => (p, c))))
        {
            md.AppendLine();
            md.AppendLine($"### CPU profile: {profile.Target}, {cpu.Connections} connections");
            md.AppendLine();
            if (cpu.Error is not null)
            {
                md.AppendLine("Not measured: " + cpu.Error);
                continue;
            }
            md.AppendLine(string.Create(inv, $"`perf record -g` at 1999 Hz over one phase: {cpu.Samples} samples, {cpu.Responses} responses. ") +
                          string.Create(inv, $"Kernel frames {cpu.KernelSelfPercent:F1}% of the samples (self); frames left as bare addresses (no symbols) {cpu.UnresolvedSelfPercent:F1}%. ") +
                          "Top frames by self time, with their inclusive share (time with the frame anywhere on the stack):");
            md.AppendLine();
            md.AppendLine("| frame | module | self % | inclusive % |");
            md.AppendLine("|---|---|---|---|");
            foreach (var frame in cpu.Frames.OrderByDescending(f => f.SelfPercent).Take(TopFrames))
            {
                md.AppendLine(string.Create(inv, $"| `{Short(frame.Symbol)}` | {frame.Module} | {frame.SelfPercent:F2} | {frame.InclusivePercent:F2} |"));
            }
            md.AppendLine();
            md.AppendLine("Top frames of the process's own code by inclusive share:");
            md.AppendLine();
            md.AppendLine("| frame | self % | inclusive % |");
            md.AppendLine("|---|---|---|");
            foreach (var frame in cpu.Frames.Where(f => !f.Kernel && !f.Module.StartsWith("lib", StringComparison.Ordinal) && !f.Symbol.StartsWith("0x", StringComparison.Ordinal))
                         .OrderByDescending(f => f.InclusivePercent).Take(TopFrames))
            {
                md.AppendLine(string.Create(inv, $"| `{Short(frame.Symbol)}` | {frame.SelfPercent:F2} | {frame.InclusivePercent:F2} |"));
            }
        }
        return md.ToString();
    }

    /// <summary>
    /// Self time summed by layer for every profile, as a share of the samples and as µs per response (the share times
    /// the profiled process's CPU µs per response over the same phase): which layer's code separates the targets.
    /// </summary>
    private static void LayerTable(StringBuilder md, IReadOnlyList<TargetProfile> profiles)
    {
        var inv = CultureInfo.InvariantCulture;
        var columns = new List<(string Title, CpuProfileResult Profile)>();
        foreach (var connections in new[] { 64, 256 })
        {
            foreach (var profile in profiles)
            {
                foreach (var cpu in profile.CpuProfiles)
                {
                    if (cpu.Connections == connections && cpu.Error is null && cpu.Layers.Count > 0 && cpu.CpuMicrosecondsPerRequest is not null)
                    {
                        columns.Add(($"{profile.Target}, {connections} conns", cpu));
                    }
                }
            }
        }
        if (columns.Count == 0)
        {
            return;
        }
        md.AppendLine();
        md.AppendLine("### CPU by layer");
        md.AppendLine();
        md.AppendLine("Self time of the profiles below summed by layer, from every sample's running frame (`perf script`; a libc frame called " +
                      "from the GC counts as GC), as a share of the samples and as µs per response: the share × the profiled process's CPU µs per " +
                      "response (utime+stime over the profiled phase ÷ its responses; `perf record` runs beside it, so these are a little above " +
                      "the untraced figures). The kernel row against the phase's stime per response is a check of the sampling.");
        md.AppendLine();
        md.AppendLine("| layer |" + string.Concat(columns.Select(c => $" {c.Title}: self % | µs/resp |")));
        md.AppendLine("|---|" + string.Concat(columns.Select(_ => "---|---|")));
        for (var i = 0; i < ProfileLayers.Names.Length; i++)
        {
            md.Append($"| {ProfileLayers.Names[i]} |");
            foreach (var (_, cpu) in columns)
            {
                var share = cpu.Layers[i].SelfPercent;
                md.Append(string.Create(inv, $" {share:F1} | {share / 100 * cpu.CpuMicrosecondsPerRequest:F2} |"));
            }
            md.AppendLine();
        }
        md.AppendLine("| **all** |" + string.Concat(columns.Select(c => string.Create(inv, $" 100 | **{c.Profile.CpuMicrosecondsPerRequest:F2}** |"))));
        md.AppendLine("| user + kernel µs/resp over the phase (/proc) |" + string.Concat(columns.Select(c => string.Create(inv,
            $" | {(double)c.Profile.Cpu.UserMicroseconds / c.Profile.Responses:F2} + {(double)c.Profile.Cpu.KernelMicroseconds / c.Profile.Responses:F2} |"))));
        md.AppendLine("| samples, responses |" + string.Concat(columns.Select(c => string.Create(inv, $" | {c.Profile.Samples}, {c.Profile.Responses} |"))));
    }

    private static string Short(string symbol) => symbol.Length <= 110 ? symbol : symbol[..107] + "...";
}
