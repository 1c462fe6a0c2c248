namespace Gateway.Perf.Load;

/// <summary>
/// What one load run observed. <see cref="Failed"/> follows the method: an open-loop
/// run that reached less than 99% of its target rate, or saw any error, is
/// reported as failed and never averaged in.
/// </summary>
public sealed record LoadResult(
    string Mode,
    int Connections,
    double TargetRate,
    double DurationSeconds,
    long Completed,
    long Errors,
    long Reconnects,
    double ElapsedSeconds,
    double AchievedRate,
    LatencySummary Latency,
    string? FailureReason)
{
    public bool Failed => FailureReason is not null;

    /// <summary>
    /// A closed loop's result, from what <paramref name="recorder"/> saw over <paramref name="elapsedSeconds"/>: failed
    /// on any error, or when nothing was answered.
    /// </summary>
    public static LoadResult ClosedLoop(string mode, int connections, TimeSpan duration, LatencyRecorder recorder, long reconnects, double elapsedSeconds)
    {
        var completed = recorder.Count;
        var failure = recorder.Errors > 0 ? $"{recorder.Errors} errors" : completed == 0 ? "no response" : null;
        return new LoadResult(mode, connections, 0, duration.TotalSeconds, completed, recorder.Errors,
            reconnects, elapsedSeconds, completed / elapsedSeconds, recorder.Summarize(), failure);
    }

    /// <summary>Open loop only: how late the loader sent each request after its scheduled instant (its own jitter, which the latency includes).</summary>
    public LatencySummary? SendLag { get; init; }
}
