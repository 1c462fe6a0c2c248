using System.Globalization;
using System.Text;

namespace Gateway.Perf.Runner;

/// <summary>The human report: every figure as median [min–max] over the rounds, goals first.</summary>
public static class MarkdownReport
{
    public static string Write(string stamp, BenchPlan plan, MachineFacts machine, BenchSession session, RunSummary s,
        List<GoalVerdict> goals)
    {
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine($"# Gateway performance, {plan.Mode} run {stamp}");
        md.AppendLine();
        md.AppendLine($"{machine.Cpu}, {machine.Cores} cores, {machine.MemoryKiB / 1024} MiB, Linux {machine.Kernel}; .NET {machine.Dotnet}; commit {machine.GitCommit}.");
        md.AppendLine($"Load average (1/5/15 min) {machine.LoadAverageBefore} before, {machine.LoadAverageAfter} after; harness nice {machine.Nice}, session (autogroup) nice {machine.AutogroupNice}. " +
                      "On a shared machine other processes take CPU from every target alike; compare ratios, not absolutes.");
        md.AppendLine($"{machine.Pinning} {plan.Rounds} interleaved rounds, the order rotated by one each round; each figure is the median [min–max] over rounds; " +
                           $"load phases of {plan.Phase.TotalSeconds:0.##} s after {plan.WarmUp.TotalSeconds:0.##} s of warm-up. " +
                           "Latencies in µs. Added latency = target − baseline in the same round (proxies vs direct, plugin scenarios vs the plugin-less gateway).");
        md.AppendLine();
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| goal | measured (median) | result |");
        md.AppendLine("|---|---|---|");
        foreach (var goal in goals)
        {
            md.AppendLine($"| {goal.Goal} | {goal.Measured} | {goal.Verdict} |");
        }
        md.AppendLine();
        md.AppendLine("## Added latency, one connection (closed loop)");
        md.AppendLine();
        md.AppendLine("| target | p50 | p99 | p99.9 | added p50 | added p99 | added p99.9 |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var target in session.Targets)
        {
            if (!s.Ran(target.Name))
            {
                continue;
            }
            md.AppendLine($"| {target.Name} | {F(s.Phase(target.Name, Phases.OneConnection, r => r.Load.Latency.P50))} | " +
                $"{F(s.Phase(target.Name, Phases.OneConnection, r => r.Load.Latency.P99))} | {F(s.Phase(target.Name, Phases.OneConnection, r => r.Load.Latency.P999))} | " +
                $"{F(s.Added(target.Name, Phases.OneConnection, r => r.Load.Latency.P50))} | {F(s.Added(target.Name, Phases.OneConnection, r => r.Load.Latency.P99))} | " +
                $"{F(s.Added(target.Name, Phases.OneConnection, r => r.Load.Latency.P999))} |");
        }
        foreach (var (phase, title) in new[] { (Phases.Moderate, "1k req/s"), (Phases.High, "5k req/s") })
        {
            md.AppendLine();
            md.AppendLine($"## Open loop at {title} ({BenchPlan.OpenLoopConnections} connections, latency from the scheduled send)");
            md.AppendLine();
            md.AppendLine("| target | p50 | p90 | p99 | p99.9 | max | added p50 | added p99 | added p99.9 | loader send lag p99 | failed runs |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var target in session.Targets)
            {
                var (failed, total, reason) = s.Failures(target.Name, phase);
                if (total == 0)
                {
                    continue;
                }
                md.AppendLine($"| {target.Name} | {F(s.Phase(target.Name, phase, r => r.Load.Latency.P50))} | {F(s.Phase(target.Name, phase, r => r.Load.Latency.P90))} | " +
                    $"{F(s.Phase(target.Name, phase, r => r.Load.Latency.P99))} | {F(s.Phase(target.Name, phase, r => r.Load.Latency.P999))} | " +
                    $"{F(s.Phase(target.Name, phase, r => r.Load.Latency.Max))} | {F(s.Added(target.Name, phase, r => r.Load.Latency.P50))} | " +
                    $"{F(s.Added(target.Name, phase, r => r.Load.Latency.P99))} | {F(s.Added(target.Name, phase, r => r.Load.Latency.P999))} | " +
                    $"{F(s.Phase(target.Name, phase, r => r.Load.SendLag?.P99))} | {failed}/{total}{(reason is null ? "" : " (" + reason + ")")} |");
            }
        }
        md.AppendLine();
        md.AppendLine("## Saturation throughput and CPU per request of the proxy process");
        md.AppendLine();
        md.AppendLine("One loader thread drives all the connections of a saturation phase over epoll, one send and one receive per request, so the proxy's core, not the loader's, is the limit.");
        md.AppendLine();
        md.AppendLine("CPU µs/request = (utime+stime of the target's process over the phase) ÷ responses; for `direct` it is the upstream nginx's.");
        md.AppendLine();
        md.AppendLine("Context switches/request: voluntary + involuntary switches of the target's threads over the phase ÷ responses (each hand-off between threads is one).");
        md.AppendLine();
        md.AppendLine("| target | req/s, 64 conns | req/s, 256 conns | CPU µs/req, 64 conns | CPU µs/req, 256 conns | CPU µs/req at 5k req/s | context switches/req, 64 conns | context switches/req at 5k req/s |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var target in session.Targets)
        {
            if (!s.Ran(target.Name))
            {
                continue;
            }
            md.AppendLine($"| {target.Name} | {F(s.Phase(target.Name, Phases.Saturation64, r => r.Load.AchievedRate), "F0")} | " +
                $"{F(s.Phase(target.Name, Phases.Saturation256, r => r.Load.AchievedRate), "F0")} | " +
                $"{F(s.Phase(target.Name, Phases.Saturation64, r => r.CpuMicrosecondsPerRequest))} | {F(s.Phase(target.Name, Phases.Saturation256, r => r.CpuMicrosecondsPerRequest))} | " +
                $"{F(s.Phase(target.Name, Phases.High, r => r.CpuMicrosecondsPerRequest))} | " +
                $"{F(s.Phase(target.Name, Phases.Saturation64, r => r.ContextSwitchesPerRequest), "F2")} | " +
                $"{F(s.Phase(target.Name, Phases.High, r => r.ContextSwitchesPerRequest), "F2")} |");
        }
        UserKernelTable(md, session, s);
        HeapTable(md, session, s);
        HeadToHeadTable(md, session.NginxHeadToHead, plan);
        md.AppendLine();
        md.AppendLine("## Memory and start-up");
        md.AppendLine();
        md.AppendLine("| target | start-up to first proxied 200 (ms) | RSS after start (MiB) | RSS after warm-up (MiB) | peak RSS (MiB) | per idle connection (KiB) |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var target in session.Targets)
        {
            if (!s.Ran(target.Name) || target.Launch is null)
            {
                continue;
            }
            var idle = "";
            foreach (var result in session.IdleMemory)
            {
                if (result.Target == target.Name)
                {
                    idle = result.BytesPerConnection is double bytes
                        ? string.Create(inv, $"{bytes / 1024:F2} ({result.Held} held)")
                        : "failed: " + result.Error;
                }
            }
            md.AppendLine($"| {target.Name} | {F(s.Process(target.Name, r => r.StartupMs))} | {F(s.Process(target.Name, r => r.RssStartKiB / 1024.0))} | " +
                $"{F(s.Process(target.Name, r => r.RssWarmKiB / 1024.0))} | {F(s.Process(target.Name, r => r.RssPeakKiB / 1024.0))} | {idle} |");
        }
        md.AppendLine();
        md.AppendLine("## Physical floors (same run, one loopback connection, one request at a time)");
        md.AppendLine();
        md.AppendLine("| floor | p50 | p99 | p99.9 |");
        md.AppendLine("|---|---|---|---|");
        // Every floor the run measured (MariaDB's only when a MariaDB scenario ran), in the order measured.
        foreach (var name in session.Floors.Select(f => f.Name).Distinct())
        {
            var p50 = new List<double>();
            var p99 = new List<double>();
            var p999 = new List<double>();
            foreach (var floor in session.Floors)
            {
                if (floor.Name == name && floor.Error is null)
                {
                    p50.Add(floor.Latency.P50);
                    p99.Add(floor.Latency.P99);
                    p999.Add(floor.Latency.P999);
                }
            }
            md.AppendLine($"| {name} | {F(Spread.Of(p50))} | {F(Spread.Of(p99))} | {F(Spread.Of(p999))} |");
        }
        md.AppendLine();
        md.AppendLine("## Scenarios");
        md.AppendLine();
        foreach (var target in session.Targets)
        {
            var errors = new List<string>();
            foreach (var round in session.Rounds)
            {
                if (round.Target == target.Name && round.Error is not null)
                {
                    errors.Add($"round {round.Round}: {round.Error}");
                }
            }
            var state = target.NotRunReason is not null ? "**not run**: " + target.NotRunReason : "run";
            md.AppendLine($"- `{target.Name}`: {target.Description}; {state}{(errors.Count > 0 ? "; " + string.Join("; ", errors) : "")}");
        }
        md.AppendLine();
        md.AppendLine("Versions: " + string.Join(", ", machine.Versions.Select(v => $"{v.Key} {v.Value}")) + ".");
        return md.ToString();
    }

    /// <summary>The saturation phases' CPU per request apart: the target's own code (utime) and the kernel working for it (stime).</summary>
    private static void UserKernelTable(StringBuilder md, BenchSession session, RunSummary s)
    {
        md.AppendLine();
        md.AppendLine("### CPU µs/request, user + kernel");
        md.AppendLine();
        md.AppendLine("The CPU µs/request above apart: utime (the process's own code and libraries) and stime (system calls and the network stack " +
                      "working for it) over the phase ÷ responses; user + kernel = the total of each round.");
        md.AppendLine();
        md.AppendLine("| target | 64 conns user | 64 conns kernel | 256 conns user | 256 conns kernel |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var target in session.Targets)
        {
            if (!s.Ran(target.Name))
            {
                continue;
            }
            md.AppendLine($"| {target.Name} | {F(s.Phase(target.Name, Phases.Saturation64, r => r.UserMicrosecondsPerRequest))} | " +
                $"{F(s.Phase(target.Name, Phases.Saturation64, r => r.KernelMicrosecondsPerRequest))} | " +
                $"{F(s.Phase(target.Name, Phases.Saturation256, r => r.UserMicrosecondsPerRequest))} | " +
                $"{F(s.Phase(target.Name, Phases.Saturation256, r => r.KernelMicrosecondsPerRequest))} |");
        }
    }

    /// <summary>The head-to-head stage: each side's figures and the pair-by-pair ratios the CPU and throughput goals are judged by.</summary>
    private static void HeadToHeadTable(StringBuilder md, HeadToHeadResult? result, BenchPlan plan)
    {
        if (result is null)
        {
            return;
        }
        md.AppendLine();
        md.AppendLine($"### Head to head: gateway and {result.Peer}");
        md.AppendLine();
        md.AppendLine($"At each connection count both started fresh and warmed up, then {plan.HeadToHeadPairs} pairs of {plan.HeadToHeadPhase.TotalSeconds:0.##} s " +
                      "saturation phases, the two alternating (gateway first in odd pairs, last in even ones). The goals above take the median of the " +
                      "pair-by-pair ratios: each pair ran within seconds, where the rounds' two medians come from phases minutes apart.");
        if (result.Error is not null)
        {
            md.AppendLine();
            md.AppendLine($"Stopped: {result.Error}");
        }
        md.AppendLine();
        md.AppendLine($"| connections | pairs | gateway CPU µs/req | {result.Peer} CPU µs/req | ratio | gateway req/s | {result.Peer} req/s | ratio |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var connections in new[] { 64, 256 })
        {
            static double? Cpu(PhaseResult r) => r.CpuMicrosecondsPerRequest;
            static double? Rate(PhaseResult r) => r.Load.AchievedRate;
            if (result.Ratio(connections, Cpu) is not { } cpuRatio)
            {
                continue;
            }
            md.AppendLine($"| {connections} | {cpuRatio.Count} | {F(result.Figure(connections, true, Cpu))} | {F(result.Figure(connections, false, Cpu))} | " +
                $"×{cpuRatio.Format("F2")} | {F(result.Figure(connections, true, Rate), "F0")} | {F(result.Figure(connections, false, Rate), "F0")} | " +
                $"×{F(result.Ratio(connections, Rate), "F2")} |");
        }
    }

    /// <summary>The gateway targets' managed heap over the saturation phases, from the admin listener's `/metrics` before and after.</summary>
    private static void HeapTable(StringBuilder md, BenchSession session, RunSummary s)
    {
        md.AppendLine();
        md.AppendLine("### Managed heap per request (gateway targets)");
        md.AppendLine();
        md.AppendLine("From the gateway's `/metrics` (`gateway_allocated_bytes_total`, `gateway_gc_collections_total`, `gateway_gc_pause_seconds_total`) " +
                      "read before and after each saturation phase: bytes allocated per response, collections per 100k responses (as .NET counts them, " +
                      "a gen1 collection is in gen0's count too), GC pause ms per second of the phase. — where the build serves no such counters.");
        md.AppendLine();
        md.AppendLine("| target | conns | bytes/response | gen0 per 100k | gen1 per 100k | gen2 per 100k | GC pause ms/s |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var target in session.Targets)
        {
            if (!s.Ran(target.Name) || !target.ServesMetrics)
            {
                continue;
            }
            foreach (var (phase, connections) in new[] { (Phases.Saturation64, 64), (Phases.Saturation256, 256) })
            {
                if (s.Failures(target.Name, phase).Total == 0)
                {
                    continue;
                }
                md.AppendLine($"| {target.Name} | {connections} | {F(s.Phase(target.Name, phase, r => r.Heap?.BytesPerRequest), "F0")} | " +
                    $"{F(s.Phase(target.Name, phase, r => r.Heap?.Gen0Per100k))} | {F(s.Phase(target.Name, phase, r => r.Heap?.Gen1Per100k))} | " +
                    $"{F(s.Phase(target.Name, phase, r => r.Heap?.Gen2Per100k))} | {F(s.Phase(target.Name, phase, r => r.Heap?.PauseMsPerSecond), "F2")} |");
            }
        }
    }

    private static string F(Spread? spread, string format = "F1") => spread?.Format(format) ?? "—";
}
