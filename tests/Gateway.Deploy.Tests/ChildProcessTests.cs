using System.Diagnostics;

namespace Gateway.Deploy.Tests;

/// <summary>The suite's long-running children: a script that exits but leaves something holding its output fails in bounded time.</summary>
public sealed class ChildProcessTests
{
    [Fact]
    public void ExitedScriptWhoseChildHoldsItsOutput_FailsWithinTheBound()
    {
        // The background sleep keeps the script's stdout open past the drain bound (10 s), then ends by itself.
        var started = Stopwatch.StartNew();
        using var child = ChildProcess.Start("sh", ["-c", "sleep 13 & echo started"]);
        var error = Assert.Throws<InvalidOperationException>(() => child.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.Contains("did not end", error.Message);
        Assert.InRange(started.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(12.5));
    }
}
