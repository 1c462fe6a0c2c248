using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>One pair of the head-to-head stage: the gateway's and the peer's saturation phase, run back to back.</summary>
public sealed record HeadToHeadPair(int Connections, int Pair, PhaseResult Gateway, PhaseResult Peer);

/// <summary>What the head-to-head stage measured; the goal figures are the medians of the pairs' ratios.</summary>
public sealed record HeadToHeadResult(string Peer, IReadOnlyList<HeadToHeadPair> Pairs, string? Error)
{
    /// <summary>gateway ÷ peer for one figure, pair by pair, over pairs where both phases succeeded.</summary>
    public Spread? Ratio(int connections, Func<PhaseResult, double?> figure)
    {
        var ratios = new List<double>();
        foreach (var (gateway, peer) in Succeeded(connections))
        {
            if (figure(gateway) is double mine && figure(peer) is double theirs && theirs > 0)
            {
                ratios.Add(mine / theirs);
            }
        }
        return Spread.Of(ratios);
    }

    /// <summary>One side's figure over the pairs where both phases succeeded.</summary>
    public Spread? Figure(int connections, bool gateway, Func<PhaseResult, double?> figure)
    {
        var values = new List<double>();
        foreach (var pair in Succeeded(connections))
        {
            if (figure(gateway ? pair.Gateway : pair.Peer) is double value)
            {
                values.Add(value);
            }
        }
        return Spread.Of(values);
    }

    private IEnumerable<(PhaseResult Gateway, PhaseResult Peer)> Succeeded(int connections)
    {
        foreach (var pair in Pairs)
        {
            if (pair.Connections == connections && !pair.Gateway.Load.Failed && !pair.Peer.Load.Failed)
            {
                yield return (pair.Gateway, pair.Peer);
            }
        }
    }
}

/// <summary>
/// The gateway against the nginx peer for the CPU and throughput goals. In the rounds the two saturation phases of
/// a round run minutes apart, with every other target between them; on this shared host the CPU per request drifts
/// by ±15% over such a span, more than the difference being judged. Here, at each connection count, both are
/// started fresh and warmed up, then short saturation phases alternate between them: gateway, peer, peer, gateway,
/// and so on, so each pair ran within seconds and neither always goes first. The ratio of each pair moves with the
/// host far less than the ratio of two medians does.
/// </summary>
public static class HeadToHead
{
    public static HeadToHeadResult Run(BenchTarget gateway, BenchTarget peer, BenchPlan plan, ApiKeyRange keys, TextWriter progress)
    {
        var pairs = new List<HeadToHeadPair>();
        foreach (var connections in plan.MeasureSaturation256 ? new[] { 64, 256 } : [64])
        {
            using var gatewayProcess = BenchSession.StartWarmedUp(gateway, keys, plan, 0, out var gatewayRequest, out var gatewayAnswered);
            using var peerProcess = BenchSession.StartWarmedUp(peer, keys, plan, 0, out var peerRequest, out var peerAnswered);
            if (!gatewayAnswered || !peerAnswered)
            {
                var silent = gatewayAnswered ? peerProcess : gatewayProcess;
                return new HeadToHeadResult(peer.Name, pairs, $"{(gatewayAnswered ? peer : gateway).Name} did not answer: {silent.Tail()}");
            }
            PhaseResult Phase(ChildProcess process, RequestTemplate request) =>
                BenchSession.MeasurePhase($"sat{connections}", process.Pid, process.MetricsPort,
                    () => new SaturationRun(request, plan.HeadToHeadPhase, connections).Run());
            for (var pair = 1; pair <= plan.HeadToHeadPairs; pair++)
            {
                PhaseResult mine;
                PhaseResult theirs;
                if (pair % 2 == 1)
                {
                    mine = Phase(gatewayProcess, gatewayRequest);
                    theirs = Phase(peerProcess, peerRequest);
                }
                else
                {
                    theirs = Phase(peerProcess, peerRequest);
                    mine = Phase(gatewayProcess, gatewayRequest);
                }
                pairs.Add(new HeadToHeadPair(connections, pair, mine, theirs));
                progress.WriteLine($"  head to head, {connections} connections, pair {pair}: " +
                    $"{gateway.Name} {mine.CpuMicrosecondsPerRequest:F1} µs {mine.Load.AchievedRate:F0}/s, " +
                    $"{peer.Name} {theirs.CpuMicrosecondsPerRequest:F1} µs {theirs.Load.AchievedRate:F0}/s");
            }
        }
        return new HeadToHeadResult(peer.Name, pairs, null);
    }
}
