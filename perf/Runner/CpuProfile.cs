using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>One frame of a sampled profile: its share of the samples as the running frame (self) and on the stack (inclusive).</summary>
public sealed record ProfileFrame(string Module, bool Kernel, string Symbol, double SelfPercent, double InclusivePercent);

/// <summary>
/// A sampled CPU profile of a target over one closed-loop phase, with the process's CPU time over that phase (so a
/// layer's share of the samples converts to µs per response) and the samples' self time summed by layer.
/// </summary>
public sealed record CpuProfileResult(
    int Connections, long Responses, long Samples, double KernelSelfPercent, double UnresolvedSelfPercent,
    IReadOnlyList<ProfileFrame> Frames, CpuTime Cpu, IReadOnlyList<LayerShare> Layers, string? Error)
{
    public double? CpuMicrosecondsPerRequest => Responses > 0 && Error is null ? (double)Cpu.TotalMicroseconds / Responses : null;
}

/// <summary>
/// `perf record -g` attached to a target for one load phase, summarized with `perf report`. The gateway's AOT binary
/// is stripped; its symbols are in artifacts/symbols/gateway.dbg (scripts/publish.sh keeps them there), which perf finds
/// through the binary's debug link when the report runs in that folder. The share of samples in frames that stayed
/// addresses is reported, so a profile without symbols cannot pass for one with them.
/// </summary>
public static partial class CpuProfile
{
    private const int SampleHz = 1999;

    public static CpuProfileResult Measure(int pid, int connections, string scratch, string symbolFolder, Func<LoadResult> load)
    {
        var data = Path.Combine(scratch, $"profile-{pid}.data");
        using var tool = AttachedTool.Start(
            ["record", "-F", SampleHz.ToString(CultureInfo.InvariantCulture), "-g", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", data],
            scratch, out var problem);
        if (tool is null)
        {
            return Failed(connections, 0, problem!);
        }
        var cpuBefore = ProcessProbe.Cpu(pid);
        var result = load();
        var cpu = ProcessProbe.Cpu(pid) - cpuBefore;
        var printed = tool.Finish();
        if (!File.Exists(data))
        {
            return Failed(connections, result.Completed, "perf record wrote nothing: " + printed);
        }
        var folder = Directory.Exists(symbolFolder) ? symbolFolder : scratch;
        var (exit, report) = ExternalCommand.Run("sh",
            ["-c", $"cd '{folder}' && perf report -i '{data}' --children --sort dso,sym --stdio -g none --percent-limit 0.1 2>/dev/null"],
            TimeSpan.FromSeconds(120));
        if (exit != 0)
        {
            return Failed(connections, result.Completed, "perf report failed: " + report.Split('\n')[0]);
        }
        var frames = Parse(report.Split('\n'));
        var kernel = frames.Where(f => f.Kernel).Sum(f => f.SelfPercent);
        var unresolved = frames.Where(f => f.Symbol.StartsWith("0x", StringComparison.Ordinal)).Sum(f => f.SelfPercent);
        // Every sample with its period, running frame and caller: the report above lists only frames over 0.1 %, and
        // a layer is the sum of many small frames; the caller tells the GC's memset from any other.
        var (scriptExit, samples) = ExternalCommand.Run("sh",
            ["-c", $"cd '{folder}' && perf script -i '{data}' -F period,event,ip,sym,dso --no-inline 2>/dev/null"],
            TimeSpan.FromSeconds(120));
        var layers = scriptExit == 0 ? ProfileLayers.FromScript(samples.Split('\n')) : [];
        return new CpuProfileResult(connections, result.Completed, SampleCount(report), kernel, unresolved, frames, cpu, layers, null);
    }

    /// <summary>Rows of `perf report --children --sort dso,sym -g none`: "children% self% module [k|.] symbol".</summary>
    public static List<ProfileFrame> Parse(IEnumerable<string> lines)
    {
        var frames = new List<ProfileFrame>();
        foreach (var line in lines)
        {
            var match = Row().Match(line);
            if (match.Success)
            {
                frames.Add(new ProfileFrame(
                    match.Groups[3].Value,
                    match.Groups[4].Value == "k",
                    match.Groups[5].Value.Trim(),
                    double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
                    double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)));
            }
        }
        return frames;
    }

    /// <summary>The report's "# Samples: 12K of event ..." line, as a count.</summary>
    private static long SampleCount(string report)
    {
        var match = Samples().Match(report);
        if (!match.Success)
        {
            return 0;
        }
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return (long)(match.Groups[2].Value switch { "K" => value * 1e3, "M" => value * 1e6, _ => value });
    }

    private static CpuProfileResult Failed(int connections, long responses, string error) =>
        new(connections, responses, 0, 0, 0, [], default, [], error);

    [GeneratedRegex(@"^\s+(\d+\.\d+)%\s+(\d+\.\d+)%\s+(\S+)\s+\[(k|\.)\]\s+(.+)$")]
    private static partial Regex Row();

    [GeneratedRegex(@"# Samples: (\d+(?:\.\d+)?)([KM]?)\s+of event")]
    private static partial Regex Samples();
}
