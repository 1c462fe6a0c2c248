using System.Globalization;
using MySqlConnector;

namespace Gateway.Backends.Sql;

/// <summary>ISO 8601 text for MySQL's DATE, DATETIME, TIMESTAMP and TIME values (fraction only when non-zero, as PostgreSQL prints it).</summary>
internal static class MySqlTemporalText
{
    public static string Format(MySqlDateTime value, MySqlColumnKind kind)
    {
        var date = string.Create(CultureInfo.InvariantCulture, $"{value.Year:D4}-{value.Month:D2}-{value.Day:D2}");
        if (kind == MySqlColumnKind.Date)
        {
            return date;
        }

        var time = string.Create(CultureInfo.InvariantCulture, $"{date}T{value.Hour:D2}:{value.Minute:D2}:{value.Second:D2}{Fraction(value.Microsecond)}");
        return kind == MySqlColumnKind.Timestamp ? time + "Z" : time;
    }

    /// <summary>TIME is a duration in MySQL (−838:59:59 to 838:59:59): hours are not wrapped at 24.</summary>
    public static string Format(TimeSpan value)
    {
        var sign = value < TimeSpan.Zero ? "-" : "";
        var magnitude = value.Duration();
        var microseconds = (int)(magnitude.Ticks % TimeSpan.TicksPerSecond / 10);
        return string.Create(CultureInfo.InvariantCulture,
            $"{sign}{(long)magnitude.TotalHours:D2}:{magnitude.Minutes:D2}:{magnitude.Seconds:D2}{Fraction(microseconds)}");
    }

    private static string Fraction(int microseconds) =>
        microseconds == 0 ? "" : "." + microseconds.ToString("D6", CultureInfo.InvariantCulture).TrimEnd('0');
}
