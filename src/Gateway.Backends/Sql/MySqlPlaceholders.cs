namespace Gateway.Backends.Sql;

/// <summary>
/// Counts the <c>?</c> placeholders of a MySQL statement the way the driver finds them: not inside
/// quoted strings or identifiers ('…', "…", `…`, backslash or doubled-quote escapes) nor comments
/// (<c>-- </c>, <c>#</c>, <c>/* */</c>). MySQL does not report parameter types, so the count is what
/// a call's parameters are checked against.
/// </summary>
internal static class MySqlPlaceholders
{
    public static int Count(string sql)
    {
        var count = 0;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c is '\'' or '"' or '`')
            {
                i = SkipQuoted(sql, i, c);
            }
            else if (c == '#' || (c == '-' && At(sql, i + 1, '-') && (i + 2 >= sql.Length || char.IsWhiteSpace(sql[i + 2]))))
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c == '/' && At(sql, i + 1, '*'))
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
            }
            else
            {
                if (c == '?')
                {
                    count++;
                }

                i++;
            }
        }

        return count;
    }

    private static bool At(string sql, int index, char expected) => index < sql.Length && sql[index] == expected;

    private static int SkipQuoted(string sql, int start, char quote)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            if (sql[i] == '\\' && quote != '`')
            {
                i += 2;
            }
            else if (sql[i] == quote)
            {
                if (!At(sql, i + 1, quote))
                {
                    return i + 1;
                }

                i += 2;
            }
            else
            {
                i++;
            }
        }

        return sql.Length;
    }
}
