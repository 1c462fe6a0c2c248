using System.Data.Common;

namespace Gateway.Backends.Sql;

/// <summary>
/// What differs between database engines behind <c>proxy_sql_call</c>: how a pooled connection is
/// opened, how a statement's parameters are described and bound, how result columns map to the
/// result encoding, and which driver errors mean "the database cannot serve".
/// </summary>
internal abstract class SqlProvider : IAsyncDisposable
{
    /// <summary>Waits for a pooled connection at most until <paramref name="ct"/> is cancelled.</summary>
    public abstract ValueTask<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>The declared parameter kinds of an operator's statement, checked by the server itself.</summary>
    public abstract Task<SqlParameterKind[]> DescribeAsync(string sql, CancellationToken ct);

    /// <summary>A command for <paramref name="sql"/> with the plugin's values bound; null when they do not fit.</summary>
    public abstract DbCommand? CreateCommand(DbConnection connection, string sql, ReadOnlySpan<byte> encodedParams, SqlParameterKind[] declared);

    /// <summary>Reads the column metadata of the open result and returns the row encoder for it.</summary>
    public abstract SqlRowEncoder CreateEncoder(DbDataReader reader);

    /// <summary>Classifies a driver failure; false when <paramref name="ex"/> is not this driver's.</summary>
    public abstract bool TryClassify(Exception ex, out SqlFailure failure);

    /// <summary>The server's own words about a statement it refused at start-up (for <c>--check-config</c>; never a secret).</summary>
    public abstract string Describe(Exception ex);

    public abstract ValueTask DisposeAsync();
}

/// <param name="Unavailable">The database did not serve (connection, authentication, shutdown): counts toward the breaker.</param>
internal readonly record struct SqlFailure(SqlCallStatus Status, string Diagnostic, bool Unavailable);

/// <summary>Writes the column list and then each row of one result, in the provider's column mapping.</summary>
internal abstract class SqlRowEncoder
{
    public abstract void WriteColumns(SqlResultWriter writer);

    public abstract void WriteRow(DbDataReader reader, SqlResultWriter writer);
}
