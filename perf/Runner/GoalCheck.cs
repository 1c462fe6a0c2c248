using System.Globalization;

namespace Gateway.Perf.Runner;

/// <summary>One performance target, judged from this run's figures: met, missed, or not measured (with why).</summary>
public sealed record GoalVerdict(string Goal, string Measured, string Verdict);

/// <summary>Evaluates the issue's targets. Each comparison uses medians from the same run; nothing is carried over from elsewhere.</summary>
public static class GoalCheck
{
    public static List<GoalVerdict> Evaluate(RunSummary s, IReadOnlyList<IdleMemoryResult> idle, HeadToHeadResult? headToHead)
    {
        var verdicts = new List<GoalVerdict>();
        static double? P50(PhaseResult r) => r.Load.Latency.P50;
        static double? P99(PhaseResult r) => r.Load.Latency.P99;
        static double? Rate(PhaseResult r) => r.Load.AchievedRate;
        static double? Cpu(PhaseResult r) => r.CpuMicrosecondsPerRequest;

        AtMost(verdicts, "gateway added p99 ≤ nginx's, one connection",
            s.Added("gateway", Phases.OneConnection, P99), s.Added("nginx", Phases.OneConnection, P99), "µs");
        AtMost(verdicts, "gateway added p99 ≤ nginx's, open loop 5k req/s",
            s.Added("gateway", Phases.High, P99), s.Added("nginx", Phases.High, P99), "µs");
        foreach (var (connections, phase) in new[] { (64, Phases.Saturation64), (256, Phases.Saturation256) })
        {
            HeadToHeadOrRounds(verdicts, $"gateway CPU µs/request ≤ nginx's ({connections} connections)", s, headToHead, connections, phase,
                Cpu, atMost: true, "F1", " µs");
        }
        foreach (var (connections, phase) in new[] { (64, Phases.Saturation64), (256, Phases.Saturation256) })
        {
            HeadToHeadOrRounds(verdicts, $"gateway saturation throughput ≥ nginx's ({connections} connections)", s, headToHead, connections, phase,
                Rate, atMost: false, "F0", " req/s");
        }
        AtLeast(verdicts, "gateway saturation throughput ≥ 1.5× YARP's (64 connections)",
            s.Phase("gateway", Phases.Saturation64, Rate), s.Phase("yarp", Phases.Saturation64, Rate), 1.5);
        AtLeast(verdicts, "gateway saturation throughput ≥ 1.5× YARP's (256 connections)",
            s.Phase("gateway", Phases.Saturation256, Rate), s.Phase("yarp", Phases.Saturation256, Rate), 1.5);
        Limit(verdicts, "pass-through plugin ≤ 20 µs added p50 (one connection, vs gateway)",
            s.Added("gw+passthrough", Phases.OneConnection, P50), 20, "µs");
        Limit(verdicts, "rate_limit ≤ 0.5 ms added p99 at 5k req/s (vs gateway)",
            s.Added("gw+rate_limit", Phases.High, P99), 500, "µs");
        Limit(verdicts, "api_key ≤ 1 ms added p99 on a miss at 1k req/s (vs gateway)",
            s.Added("gw+api_key miss", Phases.Moderate, P99), 1000, "µs");
        Limit(verdicts, "api_key ≤ 1 ms added p99 on a miss at 1k req/s on MariaDB (vs gateway)",
            s.Added("gw+api_key miss mariadb", Phases.Moderate, P99), 1000, "µs");
        Limit(verdicts, "start-up to first proxied request ≤ 100 ms",
            s.Process("gateway", r => r.StartupMs), 100, "ms");
        Limit(verdicts, "RSS after warm-up ≤ 60 MiB",
            s.Process("gateway", r => r.RssWarmKiB / 1024.0), 60, "MiB");
        IdleMemoryResult? gatewayIdle = null;
        foreach (var result in idle)
        {
            if (result.Target == "gateway")
            {
                gatewayIdle = result;
            }
        }
        var perConnection = gatewayIdle?.BytesPerConnection is double bytes ? new Spread(bytes / 1024, bytes / 1024, bytes / 1024, 1) : (Spread?)null;
        Limit(verdicts, $"≤ 10 KiB per idle connection ({gatewayIdle?.Held.ToString(CultureInfo.InvariantCulture) ?? "no"} held)",
            perConnection, 10, "KiB");
        return verdicts;
    }

    /// <summary>
    /// A gateway-versus-nginx goal judged by the head-to-head stage's median pair ratio (its reason is on
    /// <see cref="HeadToHead"/>), the rounds' medians shown beside it; judged by the rounds alone when the stage has no
    /// pair at this connection count.
    /// </summary>
    private static void HeadToHeadOrRounds(List<GoalVerdict> verdicts, string goal, RunSummary s, HeadToHeadResult? headToHead, int connections,
        string phase, Func<PhaseResult, double?> figure, bool atMost, string format, string unit)
    {
        var rounds = (Ours: s.Phase("gateway", phase, figure), Theirs: s.Phase("nginx", phase, figure));
        var sameRound = s.Ratio("gateway", "nginx", phase, figure);
        if (headToHead?.Ratio(connections, figure) is not { } ratio)
        {
            if (atMost)
            {
                AtMost(verdicts, goal, rounds.Ours, rounds.Theirs, unit.Trim(), sameRound);
            }
            else
            {
                AtLeast(verdicts, goal, rounds.Ours, rounds.Theirs, 1.0, sameRound);
            }
            return;
        }
        var ours = headToHead.Figure(connections, gateway: true, figure)!.Value;
        var theirs = headToHead.Figure(connections, gateway: false, figure)!.Value;
        var measured = $"head to head, {ratio.Count} pairs: {Number(ours.Median, format)} vs {Number(theirs.Median, format)}{unit}, " +
            $"pair by pair ×{ratio.Format("F2")}" +
            (rounds is ({ } o, { } t) ? $"; rounds {Number(o.Median, format)} vs {Number(t.Median, format)}{unit}{SameRound(sameRound)}" : "");
        var met = atMost ? ratio.Median <= 1.0 : ratio.Median >= 1.0;
        verdicts.Add(new GoalVerdict(goal, measured, met ? "met" : "**missed**"));
    }

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    // The verdict compares the medians; the same-round ratio, where given, is shown beside them as a check on the host.
    private static void AtMost(List<GoalVerdict> verdicts, string goal, Spread? ours, Spread? theirs, string unit, Spread? sameRound = null)
    {
        if (ours is null || theirs is null)
        {
            verdicts.Add(new GoalVerdict(goal, "—", NotMeasured(ours, theirs)));
            return;
        }
        verdicts.Add(new GoalVerdict(goal, $"{ours.Value.Median:F1} {unit} vs {theirs.Value.Median:F1} {unit}{SameRound(sameRound)}",
            ours.Value.Median <= theirs.Value.Median ? "met" : "**missed**"));
    }

    private static void AtLeast(List<GoalVerdict> verdicts, string goal, Spread? ours, Spread? theirs, double factor, Spread? sameRound = null)
    {
        if (ours is null || theirs is null)
        {
            verdicts.Add(new GoalVerdict(goal, "—", NotMeasured(ours, theirs)));
            return;
        }
        var ratio = ours.Value.Median / theirs.Value.Median;
        verdicts.Add(new GoalVerdict(goal, $"{ours.Value.Median:F0} vs {theirs.Value.Median:F0} req/s (×{ratio:F2}){SameRound(sameRound)}",
            ratio >= factor ? "met" : "**missed**"));
    }

    private static void Limit(List<GoalVerdict> verdicts, string goal, Spread? value, double limit, string unit)
    {
        if (value is null)
        {
            verdicts.Add(new GoalVerdict(goal, "—", "not measured: scenario not run or all its runs failed"));
            return;
        }
        verdicts.Add(new GoalVerdict(goal, $"{value.Value.Format("F1")} {unit}", value.Value.Median <= limit ? "met" : "**missed**"));
    }

    private static string SameRound(Spread? ratio) =>
        ratio is { } r ? $"; round by round ×{r.Format("F2")}" : "";

    private static string NotMeasured(Spread? ours, Spread? theirs) =>
        ours is null ? "not measured: gateway figure missing (not run, failed, or not in this mode)" : "not measured: peer figure missing";
}
