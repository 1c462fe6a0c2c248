using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>One function's own instructions per response.</summary>
public sealed record FunctionInstructions(string Function, double PerResponse);

/// <summary>User-space instructions a target executed per response over one closed-loop phase, with its costliest functions.</summary>
public sealed record InstructionCensusResult(
    string Target, int Connections, long Responses, double PerResponse, IReadOnlyList<FunctionInstructions> Top, string? Error);

/// <summary>
/// Counts the instructions a target executes per response, in its own code and its libraries (not the kernel's), by
/// running it under valgrind's callgrind with instrumentation switched on only around one closed-loop phase. Unlike
/// CPU time, the count hardly moves with the host's load or clock, and the functions are named: the same gateway
/// build counted 27,911 and 27,893 in two runs, nginx between 18,300 and 19,100 (how many events one of its loop turns
/// takes varies). The phase's connections are opened inside it and up to one request per connection is in flight at
/// its end, about 1% of the count at 64 connections.
/// </summary>
public static partial class InstructionCensus
{
    private const int Connections = 64;
    private const int TopFunctions = 15;
    // Under callgrind a target runs some fifty times slower: a few thousand responses in this phase, and a start of
    // seconds.
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);

    public static InstructionCensusResult Measure(BenchTarget target, ApiKeyRange keys, string scratch, string symbolFolder, TextWriter progress)
    {
        if (target.LaunchUnder is null)
        {
            return Failed(target, "cannot be started under valgrind");
        }
        if (ExternalCommand.Run("valgrind", ["--version"]).ExitCode != 0)
        {
            return Failed(target, "valgrind is not installed");
        }
        var folder = Path.Combine(scratch, "callgrind-" + target.Name);
        Directory.CreateDirectory(folder);
        var output = Path.Combine(folder, "callgrind.out");
        var port = FreePort.Next();
        using var process = target.LaunchUnder(port, program =>
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=" + output, Readable(program, symbolFolder, folder)]);
        var request = target.Request(port, keys, 0);
        if (BenchSession.WaitUntilAnswering(request, process, StartupTimeout) is null)
        {
            return Failed(target, "did not answer under valgrind: " + process.Tail());
        }
        new ClosedLoopRun(request, TimeSpan.FromSeconds(2), Connections).Run();
        var pid = process.Pid.ToString(CultureInfo.InvariantCulture);
        if (ExternalCommand.Run("callgrind_control", ["-i", "on", pid]) is { ExitCode: not 0 } on)
        {
            return Failed(target, "callgrind_control: " + on.Output);
        }
        var result = new ClosedLoopRun(request, Phase, Connections).Run();
        ExternalCommand.Run("callgrind_control", ["-d", pid]);
        ExternalCommand.Run("callgrind_control", ["-i", "off", pid]);
        var dump = Directory.GetFiles(folder, "callgrind.out*").OrderBy(File.GetLastWriteTimeUtc).LastOrDefault();
        if (dump is null || result.Completed == 0)
        {
            return Failed(target, $"no dump or no responses ({result.Completed})");
        }
        var annotated = ExternalCommand.Run("callgrind_annotate", ["--threshold=100", dump]);
        var (total, functions) = Parse(annotated.Output.Split('\n'));
        if (total == 0)
        {
            return Failed(target, "callgrind_annotate printed no totals: " + annotated.Output[..Math.Min(200, annotated.Output.Length)]);
        }
        double responses = result.Completed;
        var census = new InstructionCensusResult(target.Name, Connections, result.Completed, total / responses,
            functions.Take(TopFunctions).Select(f => new FunctionInstructions(f.Name, f.Self / responses)).ToList(), null);
        progress.WriteLine($"  instructions {target.Name}: {census.PerResponse:F0} per response over {result.Completed} responses");
        return census;
    }

    /// <summary>The program totals and each function's own count, as `callgrind_annotate` prints them (costliest first).</summary>
    public static (long Total, List<(string Name, long Self)> Functions) Parse(IEnumerable<string> lines)
    {
        long total = 0;
        var functions = new List<(string, long)>();
        foreach (var line in lines)
        {
            var match = Row().Match(line);
            if (!match.Success)
            {
                continue;
            }
            var count = long.Parse(match.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture);
            if (!match.Groups[3].Success)
            {
                total = count;
            }
            else
            {
                functions.Add((match.Groups[3].Value, count));
            }
        }
        return (total, functions);
    }

    // "  7,936,896 ( 3.95%)  ???:Function [object]" and "200,837,943 (100.0%)  PROGRAM TOTALS".
    [GeneratedRegex(@"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(PROGRAM TOTALS|(?:\S*:)?(\S+))")]
    private static partial Regex Row();

    /// <summary>
    /// The gateway with symbols valgrind can read: its DWARF (from the AOT compiler) stops valgrind's reader, so a copy
    /// links to a symbol table without it. Any other program, or a gateway without symbols or objcopy, runs as it is.
    /// </summary>
    private static string Readable(string program, string symbolFolder, string folder)
    {
        var symbols = Path.Combine(symbolFolder, "gateway.dbg");
        if (Path.GetFileName(program) != "gateway" || !File.Exists(symbols))
        {
            return program;
        }
        var copy = Path.Combine(folder, "gateway");
        var table = Path.Combine(folder, "gateway.symbols");
        bool made = ExternalCommand.Run("objcopy", ["--strip-debug", symbols, table]).ExitCode == 0 &&
                    ExternalCommand.Run("objcopy", ["--remove-section=.gnu_debuglink", program, copy]).ExitCode == 0 &&
                    ExternalCommand.Run("objcopy", ["--add-gnu-debuglink=" + table, copy]).ExitCode == 0 &&
                    ExternalCommand.Run("chmod", ["+x", copy]).ExitCode == 0;
        if (!made)
        {
            return program;
        }
        foreach (var library in Directory.GetFiles(Path.GetDirectoryName(program)!, "*.so"))
        {
            File.Copy(library, Path.Combine(folder, Path.GetFileName(library)), overwrite: true);
        }
        return copy;
    }

    private static InstructionCensusResult Failed(BenchTarget target, string error) =>
        new(target.Name, Connections, 0, 0, [], error);
}
