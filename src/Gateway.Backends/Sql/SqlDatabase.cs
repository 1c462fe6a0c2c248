using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gateway.Backends;

/// <summary>
/// A configured database whose named statements plugins run through <c>proxy_sql_call</c> (ABI §11):
/// a connection pool, a per-call deadline covering pool wait and execution, a circuit breaker, and
/// results encoded per §11.4.
/// </summary>
public sealed class SqlDatabase : IAsyncDisposable
{
    private static readonly string[] StatusNames = ["ok", "timeout", "statement_not_found", "bad_argument", "backend_error", "circuit_open", "result_too_large"];
    private static readonly Action<Task> ObserveFault = static t => _ = t.Exception;

    private readonly DatabaseOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, SqlStatement> _statements;
    private readonly NpgsqlDataSource? _dataSource;

    internal SqlDatabase(DatabaseOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        Breaker = new CircuitBreaker(options.CircuitBreaker);
        Metrics = new TargetMetrics(options.Name, StatusNames);
        _statements = new Dictionary<string, SqlStatement>(StringComparer.Ordinal);
        foreach (var (id, statement) in options.Statements)
        {
            _statements[id] = new SqlStatement(id, statement);
        }

        if (options.Provider is not ("postgresql" or "postgres"))
        {
            // Reported by CheckAsync with its key path; calls fail with BACKEND_ERROR meanwhile.
            ConfigurationProblem = $"provider: '{options.Provider}' is not supported (postgresql)";
            return;
        }

        try
        {
            _dataSource = SqlDataSourceFactory.Create(options);
        }
        catch (ArgumentException ex)
        {
            ConfigurationProblem = "connectionString: " + ex.Message;
        }
    }

    public string Name => _options.Name;

    internal CircuitBreaker Breaker { get; }

    internal TargetMetrics Metrics { get; }

    internal string? ConfigurationProblem { get; }

    /// <summary>
    /// The synchronous checks of <c>proxy_sql_call</c> (ABI §11.2): the statement exists, and the
    /// parameters are well-formed and fit its declared types (count and types are only known once
    /// the statement was described; until then the remaining checks happen at execution).
    /// </summary>
    public SqlDispatchStatus Validate(string statement, ReadOnlySpan<byte> encodedParams)
    {
        if (!_statements.TryGetValue(statement, out var found))
        {
            return SqlDispatchStatus.NotFound;
        }

        return SqlParameters.IsValid(encodedParams, found.Parameters) ? SqlDispatchStatus.Ok : SqlDispatchStatus.BadArgument;
    }

    /// <summary>Never throws. <paramref name="timeoutMs"/> 0 means the configured default; larger values are clamped to it.</summary>
    public async Task<SqlResult> ExecuteAsync(string statement, ReadOnlyMemory<byte> encodedParams, int timeoutMs)
    {
        var start = Stopwatch.GetTimestamp();
        if (!_statements.TryGetValue(statement, out var found))
        {
            return Complete(SqlCallStatus.StatementNotFound, start, "statement not found");
        }

        if (_dataSource is null)
        {
            return Complete(SqlCallStatus.BackendError, start, "database is misconfigured");
        }

        if (!Breaker.TryEnter())
        {
            return Complete(SqlCallStatus.CircuitOpen, start, "circuit open");
        }

        var timeout = TimeSpan.FromMilliseconds(timeoutMs <= 0 || timeoutMs > _options.TimeoutMs ? _options.TimeoutMs : timeoutMs);
        using var deadline = new CancellationTokenSource(timeout);
        Task<SqlResult>? run = null;
        try
        {
            run = RunAsync(found, encodedParams, deadline.Token);
            // Our own bound too: cancelling a command waits for the server's acknowledgement.
            var result = await run.WaitAsync(timeout).ConfigureAwait(false);
            return Complete(result, start);
        }
        catch (Exception ex) when (ex is TimeoutException || deadline.IsCancellationRequested)
        {
            // Whatever surfaced once the deadline passed (our timer, the driver's cancellation, a
            // connection torn down by it), the cause is the timeout (ABI §11.5 status 1).
            deadline.Cancel();
            run?.ContinueWith(ObserveFault, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return Complete(SqlCallStatus.Timeout, start, "timeout", backendFailed: true);
        }
        catch (PostgresException ex)
        {
            // SQLSTATE class 22 = data exception: the database rejected a parameter value (ABI §11.5).
            var status = ex.SqlState.StartsWith("22", StringComparison.Ordinal) ? SqlCallStatus.BadArgument : SqlCallStatus.BackendError;
            return Complete(status, start, "SQLSTATE " + ex.SqlState, backendFailed: IsUnavailable(ex.SqlState));
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException)
        {
            return Complete(SqlCallStatus.BackendError, start, "connection failure", backendFailed: true);
        }
        catch (Exception ex)
        {
            // The host call contract is "never throws": anything unforeseen is a backend error, logged by type only.
            BackendLog.UnexpectedFailure(_logger, "SQL", Name, ex.GetType().Name);
            return Complete(SqlCallStatus.BackendError, start, "internal error");
        }
    }

    public ValueTask DisposeAsync() => _dataSource?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Describes every statement; key paths as in configuration. An unreachable database is only a warning.</summary>
    internal async Task CheckAsync(List<string> problems, CancellationToken ct)
    {
        var prefix = "databases." + Name + ".";
        if (ConfigurationProblem is not null)
        {
            problems.Add(prefix + ConfigurationProblem);
            return;
        }

        if (_options.PasswordFile is { } passwordFile && !File.Exists(passwordFile))
        {
            problems.Add(prefix + "passwordFile: cannot be read");
        }

        foreach (var statement in _statements.Values)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(_options.TimeoutMs, 5000)));
            try
            {
                await statement.DescribeAsync(_dataSource!, deadline.Token).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (!IsUnavailable(ex.SqlState))
            {
                problems.Add($"{prefix}statements.{statement.Id}: {ex.SqlState} {ex.MessageText}");
            }
            catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or OperationCanceledException or TimeoutException)
            {
                BackendLog.DatabaseUnreachableAtStart(_logger, Name, ex is PostgresException pg ? "SQLSTATE " + pg.SqlState : ex.GetType().Name);
                return;
            }
        }
    }

    /// <summary>Connection exceptions (08), insufficient resources (53), operator intervention (57P) and authentication (28) mean the database cannot serve.</summary>
    private static bool IsUnavailable(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState.StartsWith("57P", StringComparison.Ordinal) || sqlState.StartsWith("28", StringComparison.Ordinal);

    private async Task<SqlResult> RunAsync(SqlStatement statement, ReadOnlyMemory<byte> encodedParams, CancellationToken ct)
    {
        var declared = await statement.DescribeAsync(_dataSource!, ct).ConfigureAwait(false);
        await using var command = _dataSource!.CreateCommand(statement.Options.Sql);
        if (!SqlParameters.TryBind(encodedParams.Span, declared, command.Parameters))
        {
            return new SqlResult(SqlCallStatus.BadArgument, 0, Encoding.UTF8.GetBytes("parameters do not fit the statement"));
        }

        // Text format for every column: the canonical text of ABI §11.4 for every type, including
        // those the AOT-slim driver has no binary reader for (numeric beyond decimal, intervals, arrays).
        command.AllResultTypesAreUnknown = true;
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        using var writer = new SqlResultWriter(statement.Options.MaxResultBytes);
        var columnCount = reader.FieldCount;
        var encodings = new SqlColumnEncoding[columnCount];
        writer.WriteHeader(columnCount);
        for (var i = 0; i < columnCount; i++)
        {
            encodings[i] = SqlColumnEncodings.FromType(reader.GetDataTypeOID(i), reader.GetDataTypeName(i));
            writer.WriteColumn(reader.GetName(i), SqlColumnEncodings.Tag(encodings[i]));
        }

        var rows = 0;
        var truncated = false;
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (rows == statement.Options.MaxRows)
            {
                truncated = true; // ABI §11.4 flag bit 0: more rows existed
                break;
            }

            for (var i = 0; i < columnCount; i++)
            {
                if (reader.IsDBNull(i))
                {
                    writer.WriteNull();
                }
                else
                {
                    SqlColumnEncodings.Write(writer, encodings[i], reader.GetString(i));
                }
            }

            rows++;
            if (writer.Overflowed)
            {
                return new SqlResult(SqlCallStatus.ResultTooLarge, 0, Encoding.UTF8.GetBytes("result exceeds maxResultBytes"));
            }
        }

        await reader.CloseAsync().ConfigureAwait(false);
        if (writer.Overflowed)
        {
            return new SqlResult(SqlCallStatus.ResultTooLarge, 0, Encoding.UTF8.GetBytes("result exceeds maxResultBytes"));
        }

        return new SqlResult(SqlCallStatus.Ok, rows, writer.Finish(truncated, reader.RecordsAffected, rows));
    }

    private SqlResult Complete(SqlResult result, long start)
    {
        Metrics.Record((int)result.Status, start);
        // Any answer from the server, even a refusal of the arguments, proves the database is serving.
        RecordHealthy();
        return result;
    }

    /// <param name="backendFailed">The database did not serve (unreachable, unavailable, too slow): counts toward opening the breaker.</param>
    private SqlResult Complete(SqlCallStatus status, long start, string diagnostic, bool backendFailed = false)
    {
        Metrics.Record((int)status, start);
        if (backendFailed)
        {
            if (Breaker.RecordFailure())
            {
                BackendLog.CircuitOpened(_logger, "SQL", Name, diagnostic);
            }
        }
        else if (status is SqlCallStatus.BadArgument or SqlCallStatus.BackendError)
        {
            RecordHealthy();
        }

        return new SqlResult(status, 0, Encoding.UTF8.GetBytes(diagnostic));
    }

    private void RecordHealthy()
    {
        if (Breaker.State != CircuitState.Closed)
        {
            BackendLog.CircuitClosed(_logger, "SQL", Name);
        }

        Breaker.RecordSuccess();
    }
}
