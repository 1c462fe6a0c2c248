using Npgsql;

namespace Gateway.Backends;

/// <summary>
/// A named statement (ABI §11.1) and, once described by the server, the types of its parameters.
/// The description comes from PostgreSQL's own inference (PREPARE + pg_prepared_statements), the
/// same inference that binds the plugin's values, so the check cannot disagree with execution.
/// </summary>
internal sealed class SqlStatement(string id, StatementOptions options)
{
    private const string DescribeName = "gateway_describe";
    private static readonly TimeSpan DescribeTimeout = TimeSpan.FromSeconds(15);

    private Task<SqlParameterKind[]>? _describing;

    public string Id { get; } = id;

    public StatementOptions Options { get; } = options;

    /// <summary>Null until described (at start-up, or on first use if the database was unreachable then).</summary>
    public SqlParameterKind[]? Parameters { get; private set; }

    public Task<SqlParameterKind[]> DescribeAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        if (Parameters is { } known)
        {
            return Task.FromResult(known);
        }

        // Concurrent first calls share one description; a failed one is retried by the next call.
        var describing = Volatile.Read(ref _describing);
        if (describing is null || describing.IsFaulted || describing.IsCanceled)
        {
            // Not tied to the first caller's deadline, since other callers share it; each caller waits with its own.
            var started = DescribeCoreAsync(dataSource);
            describing = Interlocked.CompareExchange(ref _describing, started, describing) == describing ? started : Volatile.Read(ref _describing)!;
        }

        return describing.WaitAsync(ct);
    }

    private async Task<SqlParameterKind[]> DescribeCoreAsync(NpgsqlDataSource dataSource)
    {
        using var deadline = new CancellationTokenSource(DescribeTimeout);
        var ct = deadline.Token;
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        // The SQL comes from the operator's configuration, never from a plugin.
        await using (var prepare = new NpgsqlCommand("PREPARE " + DescribeName + " AS " + Options.Sql, connection))
        {
            await prepare.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        var kinds = new List<SqlParameterKind>();
        try
        {
            await using var query = new NpgsqlCommand(
                "SELECT t.typname FROM pg_prepared_statements p CROSS JOIN LATERAL unnest(p.parameter_types) WITH ORDINALITY AS u(type, ordinal) " +
                "JOIN pg_type t ON t.oid = u.type::oid WHERE p.name = '" + DescribeName + "' ORDER BY u.ordinal",
                connection);
            await using var reader = await query.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                kinds.Add(SqlParameterKinds.FromTypeName(reader.GetString(0)));
            }
        }
        finally
        {
            await using var deallocate = new NpgsqlCommand("DEALLOCATE " + DescribeName, connection);
            await deallocate.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var parameters = kinds.ToArray();
        Parameters = parameters;
        return parameters;
    }
}
