namespace Gateway.Perf.Runner;

/// <summary>The names of the load phases, as they appear in reports.</summary>
public static class Phases
{
    /// <summary>Closed loop, one connection: the bare added latency at low load.</summary>
    public const string OneConnection = "c1";

    /// <summary>Open loop at the moderate rate (1k req/s).</summary>
    public const string Moderate = "open1k";

    /// <summary>Open loop at the high rate (5k req/s).</summary>
    public const string High = "open5k";

    /// <summary>Closed loop, 64 connections driven by one loader thread: saturation throughput and CPU per request.</summary>
    public const string Saturation64 = "sat64";

    /// <summary>Closed loop, 256 connections.</summary>
    public const string Saturation256 = "sat256";
}
