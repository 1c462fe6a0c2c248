namespace Gateway.Backends;

/// <summary>A configured database whose named statements plugins run through <c>proxy_sql_call</c> (ABI §11).</summary>
public sealed class SqlDatabase
{
    internal SqlDatabase(DatabaseOptions options) => Name = options.Name;

    public string Name { get; }

    public SqlDispatchStatus Validate(string statement, ReadOnlySpan<byte> encodedParams) => SqlDispatchStatus.NotFound;

    /// <summary>Never throws. <paramref name="timeoutMs"/> 0 means the configured default; larger values are clamped to it.</summary>
    public Task<SqlResult> ExecuteAsync(string statement, ReadOnlyMemory<byte> encodedParams, int timeoutMs) =>
        Task.FromResult(new SqlResult(SqlCallStatus.StatementNotFound, 0, []));
}
