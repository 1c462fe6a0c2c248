using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends.Sql;

/// <summary>
/// A configured database whose named statements plugins run through <c>proxy_sql_call</c>: a
/// connection pool shared by bounded per-plugin lanes, a per-call deadline covering the waits and
/// the execution, a circuit breaker per plugin, and results encoded while they stream in.
/// </summary>
public sealed class SqlDatabase : IAsyncDisposable
{
    internal static readonly string[] StatusNames = ["ok", "timeout", "statement_not_found", "bad_argument", "backend_error", "circuit_open", "result_too_large"];
    private static readonly Action<Task> ObserveFault = static t => _ = t.Exception;
    private static readonly Func<string, SqlDatabase, SqlPluginLane> NewLane = static (plugin, database) =>
        new SqlPluginLane(plugin, database.PluginShare, database._options.CircuitBreaker);

    private readonly DatabaseOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, SqlStatement> _statements;
    private readonly SqlProvider? _provider;
    private readonly ConcurrentDictionary<string, SqlPluginLane> _lanes = new(StringComparer.Ordinal);

    internal SqlDatabase(DatabaseOptions options, ILogger logger, TargetMetrics metrics)
    {
        _options = options;
        _logger = logger;
        Metrics = metrics;
        PluginShare = options.MaxConnectionsPerPlugin > 0
            ? Math.Min(options.MaxConnectionsPerPlugin, options.MaxPoolSize)
            : Math.Max(1, (options.MaxPoolSize + 1) / 2);
        _statements = new Dictionary<string, SqlStatement>(StringComparer.Ordinal);
        foreach (var (id, statement) in options.Statements)
        {
            _statements[id] = new SqlStatement(id, statement);
        }

        try
        {
            _provider = options.Provider == DatabaseProvider.MySql ? new MySqlProvider(options) : new PostgresProvider(options);
        }
        catch (ArgumentException ex)
        {
            // Reported by CheckAsync with its key path; calls fail with BACKEND_ERROR meanwhile.
            ConfigurationProblem = "connectionString: " + ex.Message;
        }
    }

    public string Name => _options.Name;

    /// <summary>Connections one plugin may hold at once.</summary>
    internal int PluginShare { get; }

    /// <summary>For the per-target breaker gauge: the breaker of a plugin whose lane is open, if any.</summary>
    internal CircuitBreaker Breaker
    {
        get
        {
            CircuitBreaker? any = null;
            foreach (var (_, lane) in _lanes)
            {
                if (lane.Breaker.State != CircuitState.Closed)
                {
                    return lane.Breaker;
                }

                any = lane.Breaker;
            }

            return any ?? Lane("").Breaker;
        }
    }

    internal TargetMetrics Metrics { get; }

    internal string? ConfigurationProblem { get; }

    /// <summary>
    /// The synchronous checks of <c>proxy_sql_call</c>: the statement exists, and the parameters are
    /// well-formed and fit its declared types (count and types are only known once the statement was
    /// described; until then the remaining checks happen at execution).
    /// </summary>
    public SqlDispatchStatus Validate(string statement, ReadOnlySpan<byte> encodedParams)
    {
        if (!_statements.TryGetValue(statement, out var found))
        {
            return SqlDispatchStatus.NotFound;
        }

        return SqlParameters.IsValid(encodedParams, found.Parameters) ? SqlDispatchStatus.Ok : SqlDispatchStatus.BadArgument;
    }

    /// <summary>
    /// Never throws. <paramref name="timeoutMs"/> 0 means the configured default; larger values are
    /// clamped to it. The result arrives at the deadline at the latest; <paramref name="ended"/> runs
    /// (once, with <paramref name="endedState"/>) only when the statement has really ended on the
    /// server, which after a timeout is when the server acknowledged the cancellation.
    /// </summary>
    public async Task<SqlResult> ExecuteAsync(string statement, ReadOnlyMemory<byte> encodedParams, int timeoutMs,
        string plugin = "", Action<object?>? ended = null, object? endedState = null)
    {
        var start = Stopwatch.GetTimestamp();
        var handedOver = false;
        SqlPluginLane? entered = null;
        try
        {
            if (!_statements.TryGetValue(statement, out var found))
            {
                return Complete(null, SqlCallStatus.StatementNotFound, start, "statement not found");
            }

            if (_provider is null)
            {
                return Complete(null, SqlCallStatus.BackendError, start, "database is misconfigured");
            }

            var lane = Lane(plugin);
            var timeout = TimeSpan.FromMilliseconds(timeoutMs <= 0 || timeoutMs > _options.TimeoutMs ? _options.TimeoutMs : timeoutMs);
            if (!await lane.TryEnterAsync(timeout).ConfigureAwait(false))
            {
                // The plugin's own share is busy: its problem, not the database's, so the breaker is not told.
                return Complete(null, SqlCallStatus.Timeout, start, "timeout waiting for this plugin's share of connections");
            }

            if (!lane.Breaker.TryEnter())
            {
                lane.Exit();
                return Complete(lane, SqlCallStatus.CircuitOpen, start, "circuit open");
            }

            entered = lane;
            var remaining = timeout - Stopwatch.GetElapsedTime(start);
            handedOver = true;
            var run = RunAsync(lane, found, encodedParams, remaining, ended, endedState);
            try
            {
                // Our own bound too: the driver's cancellation waits for the server's acknowledgement.
                var result = await run.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero).ConfigureAwait(false);
                return result.Status == SqlCallStatus.Timeout
                    ? Complete(lane, SqlCallStatus.Timeout, start, "timeout", backendFailed: true)
                    : Complete(lane, result, start);
            }
            catch (TimeoutException)
            {
                _ = run.ContinueWith(ObserveFault, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return Complete(lane, SqlCallStatus.Timeout, start, "timeout", backendFailed: true);
            }
            catch (Exception ex) when (_provider.TryClassify(ex, out var failure))
            {
                return Complete(lane, failure.Status, start, failure.Diagnostic, backendFailed: failure.Unavailable);
            }
        }
        catch (Exception ex)
        {
            // The host call contract is "never throws": anything unforeseen is a backend error, logged by type only.
            // Told to the breaker as a failure, so a half-open probe that ends here cannot leave it half-open.
            BackendLog.UnexpectedFailure(_logger, "SQL", Name, ex.GetType().Name);
            return Complete(entered, SqlCallStatus.BackendError, start, "internal error", backendFailed: entered is not null);
        }
        finally
        {
            if (!handedOver)
            {
                ended?.Invoke(endedState);
            }
        }
    }

    public ValueTask DisposeAsync() => _provider?.DisposeAsync() ?? ValueTask.CompletedTask;

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

        if (_options.CaFile is { } caFile && !File.Exists(caFile))
        {
            problems.Add(prefix + "caFile: cannot be read");
        }

        foreach (var statement in _statements.Values)
        {
            using var deadline = StartUpDeadline(ct);
            try
            {
                await statement.DescribeAsync(_provider!, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (_provider!.TryClassify(ex, out var failure) && !failure.Unavailable && failure.Status != SqlCallStatus.Timeout)
            {
                problems.Add($"{prefix}statements.{statement.Id}: {_provider.Describe(ex)}");
            }
            catch (Exception ex) when (FromDatabase(ex))
            {
                BackendLog.DatabaseUnreachableAtStart(_logger, Name, ex.GetType().Name);
                return;
            }
        }

        await OpenMinimumAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A database a reload built opens its pool's minimum as at start (<see cref="OpenMinimumAsync"/>), while it already
    /// serves calls; one whose configuration was refused has no pool to fill.
    /// </summary>
    internal Task WarmAsync(CancellationToken ct) => ConfigurationProblem is null ? OpenMinimumAsync(ct) : Task.CompletedTask;

    /// <summary>
    /// Opens the pool's minimum of connections, all held at once so each is a connection of its own, and gives them back
    /// to the pool, which keeps them while idle. Without them the first calls after start each find no idle connection
    /// and open one, and on PostgreSQL a connection is a new server process: milliseconds a call waits, while the calls
    /// behind it open more. A connection that cannot be opened now is opened on demand later, as without this.
    /// </summary>
    private async Task OpenMinimumAsync(CancellationToken ct)
    {
        using var deadline = StartUpDeadline(ct);
        var opening = new Task<DbConnection>[_options.KeptOpen];
        for (int i = 0; i < opening.Length; i++)
        {
            opening[i] = _provider!.OpenAsync(deadline.Token).AsTask();
        }

        try
        {
            await Task.WhenAll(opening).ConfigureAwait(false);
        }
        catch (Exception ex) when (FromDatabase(ex))
        {
            BackendLog.DatabasePoolNotFilled(_logger, Name, opening.Count(t => t.IsCompletedSuccessfully), opening.Length, ex.GetType().Name);
        }

        foreach (var open in opening)
        {
            if (open.IsCompletedSuccessfully)
            {
                await open.Result.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>A start-up step's bound: the call timeout, but never under 5 s (a first connection may be slow).</summary>
    private CancellationTokenSource StartUpDeadline(CancellationToken ct)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(_options.TimeoutMs, 5000)));
        return deadline;
    }

    /// <summary>A failure a start-up step expects from the database or its deadline (the driver's, or a timeout), not a fault of the gateway's own.</summary>
    private bool FromDatabase(Exception ex) => ex is OperationCanceledException or TimeoutException || _provider!.TryClassify(ex, out _);

    private SqlPluginLane Lane(string plugin) => _lanes.GetOrAdd(plugin, NewLane, this);

    /// <summary>Runs on its own until the statement really ended; frees the lane's slot only then.</summary>
    private async Task<SqlResult> RunAsync(SqlPluginLane lane, SqlStatement statement, ReadOnlyMemory<byte> encodedParams,
        TimeSpan remaining, Action<object?>? ended, object? endedState)
    {
        using var deadline = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        try
        {
            var ct = deadline.Token;
            var declared = await statement.DescribeAsync(_provider!, ct).ConfigureAwait(false);
            await using var connection = await _provider!.OpenAsync(ct).ConfigureAwait(false);
            await using var command = _provider.CreateCommand(connection, statement.Options.Sql, encodedParams.Span, declared);
            if (command is null)
            {
                return new SqlResult(SqlCallStatus.BadArgument, 0, Encoding.UTF8.GetBytes("parameters do not fit the statement"));
            }

            return await ReadAsync(command, statement.Options, ct).ConfigureAwait(false);
        }
        catch (Exception) when (deadline.IsCancellationRequested)
        {
            // Whatever surfaced once the deadline passed (the driver's cancellation, a connection torn
            // down by it), the cause is the timeout.
            return new SqlResult(SqlCallStatus.Timeout, 0, []);
        }
        finally
        {
            lane.Exit();
            ended?.Invoke(endedState);
        }
    }

    private async Task<SqlResult> ReadAsync(DbCommand command, StatementOptions options, CancellationToken ct)
    {
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var stopped = false;
        try
        {
            var encoder = _provider!.CreateEncoder(reader);
            using var writer = new SqlResultWriter(options.MaxResultBytes);
            encoder.WriteColumns(writer);
            var rows = 0;
            var truncated = false;
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                if (rows == options.MaxRows)
                {
                    truncated = true; // flag bit 0: more rows existed
                    break;
                }

                encoder.WriteRow(reader, writer);
                if (writer.Overflowed)
                {
                    break;
                }

                rows++;
            }

            if (truncated || writer.Overflowed)
            {
                stopped = await SqlReaderStop.StopAsync(command, reader, ct).ConfigureAwait(false);
            }

            if (writer.Overflowed)
            {
                return new SqlResult(SqlCallStatus.ResultTooLarge, 0, Encoding.UTF8.GetBytes("result exceeds maxResultBytes"));
            }

            if (!stopped)
            {
                await reader.CloseAsync().ConfigureAwait(false);
            }

            // A stopped statement's count is unknown (and a query's is 0 anyway).
            return new SqlResult(SqlCallStatus.Ok, rows, writer.Finish(truncated, stopped ? 0 : reader.RecordsAffected, rows));
        }
        finally
        {
            await SqlReaderStop.DisposeAsync(reader, stopped).ConfigureAwait(false);
        }
    }

    private SqlResult Complete(SqlPluginLane lane, SqlResult result, long start)
    {
        Metrics.Record((int)result.Status, start);
        // Any answer from the server, even a refusal of the arguments, proves the database is serving.
        RecordHealthy(lane);
        return result;
    }

    /// <param name="backendFailed">The database did not serve (unreachable, unavailable, too slow): counts toward opening the plugin's breaker.</param>
    private SqlResult Complete(SqlPluginLane? lane, SqlCallStatus status, long start, string diagnostic, bool backendFailed = false)
    {
        Metrics.Record((int)status, start);
        if (lane is not null)
        {
            if (backendFailed)
            {
                if (lane.Breaker.RecordFailure())
                {
                    BackendLog.CircuitOpened(_logger, "SQL", LaneName(lane), diagnostic);
                }
            }
            else if (status is SqlCallStatus.BadArgument or SqlCallStatus.BackendError)
            {
                RecordHealthy(lane);
            }
        }

        return new SqlResult(status, 0, Encoding.UTF8.GetBytes(diagnostic));
    }

    private void RecordHealthy(SqlPluginLane lane)
    {
        if (lane.Breaker.State != CircuitState.Closed)
        {
            BackendLog.CircuitClosed(_logger, "SQL", LaneName(lane));
        }

        lane.Breaker.RecordSuccess();
    }

    private string LaneName(SqlPluginLane lane) => lane.Plugin.Length == 0 ? Name : Name + " (plugin " + lane.Plugin + ")";
}
