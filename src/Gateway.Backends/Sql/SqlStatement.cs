namespace Gateway.Backends.Sql;

/// <summary>
/// A named statement and, once described by the server, the kinds of its parameters (see
/// <see cref="SqlProvider.DescribeAsync"/> for how each engine describes them).
/// </summary>
internal sealed class SqlStatement(string id, StatementOptions options)
{
    private static readonly TimeSpan DescribeTimeout = TimeSpan.FromSeconds(15);

    private Task<SqlParameterKind[]>? _describing;

    public string Id { get; } = id;

    public StatementOptions Options { get; } = options;

    /// <summary>Null until described (at start-up, or on first use if the database was unreachable then).</summary>
    public SqlParameterKind[]? Parameters { get; private set; }

    public Task<SqlParameterKind[]> DescribeAsync(SqlProvider provider, CancellationToken ct)
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
            var started = DescribeCoreAsync(provider);
            describing = Interlocked.CompareExchange(ref _describing, started, describing) == describing ? started : Volatile.Read(ref _describing)!;
        }

        return describing.WaitAsync(ct);
    }

    private async Task<SqlParameterKind[]> DescribeCoreAsync(SqlProvider provider)
    {
        using var deadline = new CancellationTokenSource(DescribeTimeout);
        var parameters = await provider.DescribeAsync(Options.Sql, deadline.Token).ConfigureAwait(false);
        Parameters = parameters;
        return parameters;
    }
}
