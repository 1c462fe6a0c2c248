using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends;

/// <summary>
/// A configured Redis target that plugins reach through <c>proxy_redis_call</c> (ABI §10): one pipelined
/// connection shared by every worker, a per-call timeout, a circuit breaker, and a password that follows
/// its mounted file. Commands go out and replies come back byte for byte as the plugin and Redis wrote them.
/// </summary>
public sealed class RedisTarget : IAsyncDisposable
{
    /// <summary>How often the password file is re-read; a Kubernetes Secret update takes about a minute to land anyway.</summary>
    private static readonly TimeSpan PasswordPollInterval = TimeSpan.FromSeconds(1);

    private static readonly string[] OutcomeNames = ["ok", "error_reply", "timeout", "network_error", "circuit_open", "bad_command"];

    private readonly RedisTargetOptions _options;
    private readonly ILogger _logger;
    private readonly SecretFile? _passwordFile;
    private readonly Timer? _passwordPoll;
    private RedisConnection _connection;
    private string? _password;
    private int _checkingPassword;
    private Task _passwordCheck = Task.CompletedTask;
    private bool _passwordFileUnreadable;

    internal RedisTarget(RedisTargetOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        Breaker = new CircuitBreaker(options.CircuitBreaker);
        Metrics = new TargetMetrics(options.Name, OutcomeNames);
        _password = options.Password;
        if (options.PasswordFile is not null)
        {
            _passwordFile = new SecretFile(options.PasswordFile);
            try
            {
                _password = _passwordFile.Read();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Reported by CheckAsync; the poll picks the file up once it appears.
                _passwordFileUnreadable = true;
            }

            _passwordPoll = new Timer(static state => ((RedisTarget)state!).OnPasswordPoll(), this, PasswordPollInterval, PasswordPollInterval);
        }

        _connection = RedisConnection.Start(options, _password, logger);
    }

    private enum Outcome
    {
        Ok,
        ErrorReply,
        Timeout,
        NetworkError,
        CircuitOpen,
        BadCommand,
    }

    public string Name => _options.Name;

    internal CircuitBreaker Breaker { get; }

    internal TargetMetrics Metrics { get; }

    /// <summary>ABI §10.4: exactly one RESP array of bulk strings whose command is allowed; else <c>BAD_ARGUMENT</c>.</summary>
    public bool IsValidCommand(ReadOnlySpan<byte> resp, out string? error) => RespCommand.TryReadFrame(resp, out _, out error);

    /// <summary>
    /// Never throws. <paramref name="timeoutMs"/> 0 means the configured default; larger values are
    /// clamped to it. Timeouts, connection failures and an open breaker all yield NetworkError (ABI §10.1).
    /// </summary>
    public async Task<RedisReply> CallAsync(ReadOnlyMemory<byte> resp, int timeoutMs)
    {
        var start = Stopwatch.GetTimestamp();
        if (!RespCommand.TryReadFrame(resp.Span, out _, out _))
        {
            return Complete(Outcome.BadCommand, start, []);
        }

        if (!Breaker.TryEnter())
        {
            return Complete(Outcome.CircuitOpen, start, []);
        }

        int effectiveMs = timeoutMs <= 0 || timeoutMs > _options.TimeoutMs ? _options.TimeoutMs : timeoutMs;
        long deadline = start + (long)(effectiveMs / 1000.0 * Stopwatch.Frequency);
        var connection = AcquireConnection();
        try
        {
            if (!connection.IsConnected && !connection.FirstAttempt.IsCompleted)
            {
                // Only right after start or a rotation: wait (within the call's own time) for the first connect.
                await connection.FirstAttempt.WaitAsync(Stopwatch.GetElapsedTime(start, deadline)).ConfigureAwait(false);
            }

            RespOutcome outcome = await connection.CallAsync(resp.Span, deadline).ConfigureAwait(false);
            return outcome.Kind switch
            {
                // An error reply is a reply (status Ok, ABI §10.1); the server is healthy.
                RespOutcomeKind.Reply => Complete(outcome.Reply[0] == (byte)'-' ? Outcome.ErrorReply : Outcome.Ok, start, outcome.Reply),
                RespOutcomeKind.Timeout => Complete(Outcome.Timeout, start, []),
                _ => Complete(Outcome.NetworkError, start, []),
            };
        }
        catch (TimeoutException)
        {
            return Complete(Outcome.Timeout, start, []);
        }
        finally
        {
            connection.Release();
        }
    }

    /// <summary>Configuration checks, and waits (up to the connect timeout) for the first connection so the first calls do not pay for it.</summary>
    internal async Task CheckAsync(List<string> problems, CancellationToken ct)
    {
        var connection = Volatile.Read(ref _connection);
        if (connection.EndpointProblem is { } endpointProblem)
        {
            problems.Add($"redis.{Name}.endpoints: {endpointProblem}");
        }

        try
        {
            await connection.FirstAttempt.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(1, _options.ConnectTimeoutMs)), ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Reported below as not connected.
        }

        if (!connection.IsConnected)
        {
            // Unreachable at start is not a configuration error: the connection keeps retrying.
            BackendLog.RedisUnreachableAtStart(_logger, Name, "not connected");
        }

        if (_passwordFile is not null && _passwordFileUnreadable)
        {
            problems.Add($"redis.{Name}.passwordFile: cannot be read");
        }

        if (_options.Endpoints.Count == 0)
        {
            problems.Add($"redis.{Name}.endpoints: at least one endpoint is required");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_passwordPoll is not null)
        {
            await _passwordPoll.DisposeAsync().ConfigureAwait(false);
            // A check still running could swap in a connection after we retire this one.
            await Volatile.Read(ref _passwordCheck).ConfigureAwait(false);
        }

        Volatile.Read(ref _connection).Retire();
    }

    private RedisConnection AcquireConnection()
    {
        while (true)
        {
            var connection = Volatile.Read(ref _connection);
            if (connection.TryAcquire())
            {
                return connection;
            }
        }
    }

    private RedisReply Complete(Outcome outcome, long start, byte[] reply)
    {
        Metrics.Record((int)outcome, start);
        switch (outcome)
        {
            case Outcome.Ok or Outcome.ErrorReply:
                if (Breaker.State != CircuitState.Closed)
                {
                    BackendLog.CircuitClosed(_logger, "Redis", Name);
                }

                Breaker.RecordSuccess();
                return new RedisReply(RedisCallStatus.Ok, reply);
            case Outcome.Timeout or Outcome.NetworkError:
                if (Breaker.RecordFailure())
                {
                    BackendLog.CircuitOpened(_logger, "Redis", Name, outcome == Outcome.Timeout ? "timeout" : "network error");
                }

                return new RedisReply(RedisCallStatus.NetworkError, []);
            default:
                return new RedisReply(RedisCallStatus.NetworkError, []);
        }
    }

    private void OnPasswordPoll()
    {
        // One check at a time: a slow file system must not stack them up.
        if (Interlocked.Exchange(ref _checkingPassword, 1) == 0)
        {
            Volatile.Write(ref _passwordCheck, CheckPasswordFileAsync());
        }
    }

    private async Task CheckPasswordFileAsync()
    {
        try
        {
            var password = await _passwordFile!.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            _passwordFileUnreadable = false;
            if (password == _password)
            {
                return;
            }

            // Calls already on the old connection finish there; it closes when they drain.
            _password = password;
            var previous = Interlocked.Exchange(ref _connection, RedisConnection.Start(_options, password, _logger));
            previous.Retire();
            BackendLog.RedisPasswordRotated(_logger, Name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Once per outage, not once per poll; a Secret volume briefly lacks the file while it is swapped.
            if (!_passwordFileUnreadable)
            {
                _passwordFileUnreadable = true;
                BackendLog.PasswordFileUnreadable(_logger, "Redis", Name, ex.GetType().Name);
            }
        }
        finally
        {
            Volatile.Write(ref _checkingPassword, 0);
        }
    }
}
