using System.Globalization;
using System.Text;

namespace Gateway.Perf.Runner;

/// <summary>The report's section on instructions per response: the gateway's and nginx's totals and costliest functions.</summary>
public static class InstructionReport
{
    public static string Write(IReadOnlyList<InstructionCensusResult> results)
    {
        if (results.Count == 0)
        {
            return "";
        }
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("## Instructions per response (callgrind)");
        md.AppendLine();
        md.AppendLine("User-space instructions (the process's code and its libraries, not the kernel's) per response over one " +
                      "closed-loop phase at 64 connections, each target alone under valgrind's callgrind with instrumentation on only " +
                      "for that phase. The count hardly depends on the host's load: it compares builds and peers where CPU time " +
                      "cannot (nginx's moves by a few percent between runs, with how many events one loop turn takes). The phase's " +
                      "connection set-up and the requests in flight at its end add about 1%.");
        md.AppendLine();
        foreach (var failed in results.Where(r => r.Error is not null))
        {
            md.AppendLine($"- {failed.Target}: not measured: {failed.Error}");
        }
        var measured = results.Where(r => r.Error is null).ToList();
        if (measured.Count == 0)
        {
            return md.ToString();
        }
        md.AppendLine("| target | instructions/response | responses counted |");
        md.AppendLine("|---|---|---|");
        foreach (var r in measured)
        {
            md.AppendLine(string.Create(inv, $"| {r.Target} | {r.PerResponse:F0} | {r.Responses} |"));
        }
        foreach (var r in measured)
        {
            md.AppendLine();
            md.AppendLine($"### Costliest functions: {r.Target} (own instructions per response)");
            md.AppendLine();
            md.AppendLine("| instructions | function |");
            md.AppendLine("|---|---|");
            foreach (var f in r.Top)
            {
                md.AppendLine(string.Create(inv, $"| {f.PerResponse:F0} | `{Short(f.Function)}` |"));
            }
        }
        return md.ToString();
    }

    private static string Short(string function) => function.Length <= 110 ? function : function[..107] + "...";
}
