using System.Globalization;

namespace Gateway.Perf.Runner;

/// <summary>The median and min–max of one figure over the rounds (perf/README.md: never the best run alone).</summary>
public readonly record struct Spread(double Median, double Min, double Max, int Count)
{
    public static Spread? Of(List<double> values)
    {
        if (values.Count == 0)
        {
            return null;
        }
        values.Sort();
        var middle = values.Count / 2;
        var median = values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
        return new Spread(median, values[0], values[^1], values.Count);
    }

    public string Format(string numberFormat) => Count == 1
        ? Median.ToString(numberFormat, CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture,
            $"{Median.ToString(numberFormat, CultureInfo.InvariantCulture)} [{Min.ToString(numberFormat, CultureInfo.InvariantCulture)}–{Max.ToString(numberFormat, CultureInfo.InvariantCulture)}]");
}
