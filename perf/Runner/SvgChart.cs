using System.Globalization;
using System.Net;
using System.Text;

namespace Gateway.Perf.Runner;

/// <summary>
/// The report's chart, drawn from the same figures as the tables: latency by
/// percentile (log scale) per target in the open-loop 5k req/s phase, and a bar
/// chart of CPU µs per request at saturation.
/// </summary>
public static class SvgChart
{
    private static readonly string[] Colors =
        ["#222222", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

    public static string Write(string title, IReadOnlyList<BenchTarget> targets, RunSummary s)
    {
        var inv = CultureInfo.InvariantCulture;
        var percentiles = new (string Label, Func<PhaseResult, double?> Figure)[]
        {
            ("p50", r => r.Load.Latency.P50), ("p90", r => r.Load.Latency.P90), ("p99", r => r.Load.Latency.P99),
            ("p99.9", r => r.Load.Latency.P999), ("max", r => r.Load.Latency.Max),
        };
        var series = new List<(string Name, double[] Values)>();
        foreach (var target in targets)
        {
            var values = new double[percentiles.Length];
            var complete = true;
            for (var i = 0; i < percentiles.Length; i++)
            {
                var spread = s.Phase(target.Name, Phases.High, percentiles[i].Figure);
                complete &= spread is not null;
                values[i] = spread?.Median ?? 0;
            }
            if (complete)
            {
                series.Add((target.Name, values));
            }
        }
        var bars = new List<(string Name, double Value)>();
        foreach (var target in targets)
        {
            if (s.Phase(target.Name, Phases.Saturation64, r => r.CpuMicrosecondsPerRequest) is { } cpu)
            {
                bars.Add((target.Name, cpu.Median));
            }
        }

        const int width = 900, chartHeight = 360, left = 70, right = 220, top = 50;
        var barTop = top + chartHeight + 90;
        var barRow = 22;
        var height = barTop + 30 + Math.Max(1, bars.Count) * barRow + 20;
        var svg = new StringBuilder();
        svg.AppendLine(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(inv, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.AppendLine(inv, $"<text x=\"{left}\" y=\"22\" font-size=\"15\">{Escape(title)}</text>");
        svg.AppendLine(inv, $"<text x=\"{left}\" y=\"40\">Latency by percentile, open loop 5k req/s (µs, log scale; medians over rounds)</text>");

        // Log-scale y axis over whole decades that cover every point.
        double low = double.MaxValue, high = double.MinValue;
        foreach (var (_, values) in series)
        {
            foreach (var value in values)
            {
                low = Math.Min(low, Math.Max(value, 1));
                high = Math.Max(high, Math.Max(value, 1));
            }
        }
        if (series.Count == 0)
        {
            low = 10;
            high = 1000;
        }
        var decadeLow = Math.Floor(Math.Log10(low));
        var decadeHigh = Math.Max(decadeLow + 1, Math.Ceiling(Math.Log10(high)));
        var plotWidth = width - left - right;
        double Y(double value) => top + chartHeight - (Math.Log10(Math.Max(value, 1)) - decadeLow) / (decadeHigh - decadeLow) * chartHeight;
        double X(int index) => left + index * plotWidth / (percentiles.Length - 1.0);
        for (var decade = decadeLow; decade <= decadeHigh; decade++)
        {
            var y = Y(Math.Pow(10, decade));
            svg.AppendLine(inv, $"<line x1=\"{left}\" y1=\"{y:F1}\" x2=\"{left + plotWidth}\" y2=\"{y:F1}\" stroke=\"#dddddd\"/>");
            svg.AppendLine(inv, $"<text x=\"{left - 8}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Math.Pow(10, decade):G}</text>");
        }
        for (var i = 0; i < percentiles.Length; i++)
        {
            svg.AppendLine(inv, $"<line x1=\"{X(i):F1}\" y1=\"{top}\" x2=\"{X(i):F1}\" y2=\"{top + chartHeight}\" stroke=\"#eeeeee\"/>");
            svg.AppendLine(inv, $"<text x=\"{X(i):F1}\" y=\"{top + chartHeight + 18}\" text-anchor=\"middle\">{percentiles[i].Label}</text>");
        }
        for (var k = 0; k < series.Count; k++)
        {
            var color = Colors[k % Colors.Length];
            var points = new StringBuilder();
            for (var i = 0; i < percentiles.Length; i++)
            {
                points.Append(inv, $"{X(i):F1},{Y(series[k].Values[i]):F1} ");
            }
            svg.AppendLine(inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points.ToString().TrimEnd()}\"/>");
            var legendY = top + 10 + k * 18;
            svg.AppendLine(inv, $"<line x1=\"{left + plotWidth + 20}\" y1=\"{legendY}\" x2=\"{left + plotWidth + 40}\" y2=\"{legendY}\" stroke=\"{color}\" stroke-width=\"3\"/>");
            svg.AppendLine(inv, $"<text x=\"{left + plotWidth + 46}\" y=\"{legendY + 4}\">{Escape(series[k].Name)}</text>");
        }
        if (series.Count == 0)
        {
            svg.AppendLine(inv, $"<text x=\"{left + 20}\" y=\"{top + 40}\">no open-loop 5k req/s run succeeded</text>");
        }

        svg.AppendLine(inv, $"<text x=\"{left}\" y=\"{barTop}\">CPU µs per request of the target's process, 64 connections (medians; direct = the upstream nginx)</text>");
        var maxBar = 1.0;
        foreach (var (_, value) in bars)
        {
            maxBar = Math.Max(maxBar, value);
        }
        var barLeft = left + 110;
        var barSpan = width - barLeft - 80;
        for (var k = 0; k < bars.Count; k++)
        {
            var y = barTop + 20 + k * barRow;
            var w = bars[k].Value / maxBar * barSpan;
            svg.AppendLine(inv, $"<text x=\"{barLeft - 8}\" y=\"{y + 13}\" text-anchor=\"end\">{Escape(bars[k].Name)}</text>");
            svg.AppendLine(inv, $"<rect x=\"{barLeft}\" y=\"{y}\" width=\"{w:F1}\" height=\"16\" fill=\"{Colors[k % Colors.Length]}\"/>");
            svg.AppendLine(inv, $"<text x=\"{barLeft + w + 6:F1}\" y=\"{y + 13}\">{bars[k].Value:F1}</text>");
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
