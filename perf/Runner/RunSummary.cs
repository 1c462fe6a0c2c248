namespace Gateway.Perf.Runner;

/// <summary>
/// Turns the rounds into figures per target: medians and min–max over rounds, and
/// added latencies computed round by round against the baseline measured in the
/// same round (direct for proxies, the plugin-less gateway for plugin scenarios).
/// Failed load runs are left out and counted.
/// </summary>
public sealed class RunSummary
{
    private readonly IReadOnlyList<TargetRound> _rounds;
    private readonly IReadOnlyList<BenchTarget> _targets;

    public RunSummary(IReadOnlyList<BenchTarget> targets, IReadOnlyList<TargetRound> rounds)
    {
        _targets = targets;
        _rounds = rounds;
    }

    /// <summary>A figure of one phase, over the rounds whose run did not fail.</summary>
    public Spread? Phase(string target, string phase, Func<PhaseResult, double?> figure)
    {
        var values = new List<double>();
        foreach (var round in _rounds)
        {
            if (round.Target == target && round.Find(phase) is { Load.Failed: false } result && figure(result) is double value)
            {
                values.Add(value);
            }
        }
        return Spread.Of(values);
    }

    /// <summary>A per-round figure of the target itself (start-up, RSS).</summary>
    public Spread? Process(string target, Func<TargetRound, double?> figure)
    {
        var values = new List<double>();
        foreach (var round in _rounds)
        {
            if (round.Target == target && figure(round) is double value)
            {
                values.Add(value);
            }
        }
        return Spread.Of(values);
    }

    /// <summary>target − baseline for one figure, round by round, over rounds where both runs succeeded.</summary>
    public Spread? Added(string target, string phase, Func<PhaseResult, double?> figure) =>
        BaselineOf(target) is { } baseline ? SameRound(target, baseline, phase, figure, static (mine, theirs) => mine - theirs) : null;

    /// <summary>
    /// target ÷ peer for one figure, round by round: the two ran minutes apart at most, so a ratio is less moved by
    /// what the host does over the whole run than the ratio of the two medians.
    /// </summary>
    public Spread? Ratio(string target, string peer, string phase, Func<PhaseResult, double?> figure) =>
        SameRound(target, peer, phase, figure, static (mine, theirs) => theirs > 0 ? mine / theirs : null);

    /// <summary>One figure of two targets combined round by round, over rounds where both runs succeeded.</summary>
    private Spread? SameRound(string target, string other, string phase, Func<PhaseResult, double?> figure, Func<double, double, double?> combine)
    {
        var values = new List<double>();
        foreach (var round in _rounds)
        {
            if (round.Target != target || round.Find(phase) is not { Load.Failed: false } mine || figure(mine) is not double value)
            {
                continue;
            }
            foreach (var peer in _rounds)
            {
                if (peer.Target == other && peer.Round == round.Round &&
                    peer.Find(phase) is { Load.Failed: false } theirs && figure(theirs) is double reference &&
                    combine(value, reference) is double combined)
                {
                    values.Add(combined);
                }
            }
        }
        return Spread.Of(values);
    }

    /// <summary>How many runs of a phase failed, with the first reason.</summary>
    public (int Failed, int Total, string? Reason) Failures(string target, string phase)
    {
        var failed = 0;
        var total = 0;
        string? reason = null;
        foreach (var round in _rounds)
        {
            if (round.Target == target && round.Find(phase) is { } result)
            {
                total++;
                if (result.Load.Failed)
                {
                    failed++;
                    reason ??= result.Load.FailureReason;
                }
            }
        }
        return (failed, total, reason);
    }

    public string? BaselineOf(string target)
    {
        foreach (var candidate in _targets)
        {
            if (candidate.Name == target)
            {
                return candidate.Baseline;
            }
        }
        return null;
    }

    public bool Ran(string target)
    {
        foreach (var round in _rounds)
        {
            if (round.Target == target && round.Phases.Count > 0)
            {
                return true;
            }
        }
        return false;
    }
}
