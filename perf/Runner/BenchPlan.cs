namespace Gateway.Perf.Runner;

/// <summary>How long and how often each figure is measured. Quick stays under two minutes on two cores.</summary>
public sealed record BenchPlan(
    string Mode,
    int Rounds,
    TimeSpan WarmUp,
    TimeSpan Phase,
    bool MeasureModerateRate,
    bool MeasureSaturation256,
    int IdleConnections,
    int FloorSamples,
    int HeadToHeadPairs,
    TimeSpan HeadToHeadPhase)
{
    public const double ModerateRate = 1_000;
    public const double HighRate = 5_000;

    /// <summary>Open-loop connections: enough that a few slow responses never leave the schedule without a free connection.</summary>
    public const int OpenLoopConnections = 32;

    public static BenchPlan Quick { get; } = new("quick", 3, TimeSpan.FromSeconds(0.3), TimeSpan.FromSeconds(0.6),
        MeasureModerateRate: false, MeasureSaturation256: false, IdleConnections: 1_000, FloorSamples: 2_000,
        HeadToHeadPairs: 4, HeadToHeadPhase: TimeSpan.FromSeconds(0.5));

    public static BenchPlan Full { get; } = new("full", 5, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(1.25),
        MeasureModerateRate: true, MeasureSaturation256: true, IdleConnections: 10_000, FloorSamples: 10_000,
        HeadToHeadPairs: 12, HeadToHeadPhase: TimeSpan.FromSeconds(1));
}
