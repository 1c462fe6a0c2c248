using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Http.Transport;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Backends.Redis;

/// <summary>
/// A configured Redis target that plugins reach through <c>proxy_redis_call</c>: the target's own connection, one
/// connection per plugin that has its own ACL identity, a per-call timeout, and per plugin a command policy and a
/// circuit breaker (<see cref="RedisPluginClient"/>). Replies come back byte for byte as Redis sent them.
/// </summary>
public sealed class RedisTarget : IAsyncDisposable
{
    internal static readonly string[] OutcomeNames = ["ok", "error_reply", "timeout", "network_error", "circuit_open", "bad_command", "reply_too_large"];

    /// <summary>A reply larger than this fails its call only (Redis's own default limit for one bulk string is 512 MB).</summary>
    private const int MaxReplyBytes = 64 * 1024 * 1024;

    private readonly RedisTargetOptions _options;
    private readonly ILogger _logger;
    private readonly RedisIdentity _identity;
    private readonly Dictionary<string, RedisIdentity> _pluginIdentities = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RedisPluginClient> _clients = new(StringComparer.Ordinal);
    private readonly RedisDeadlines _deadlines;

    /// <param name="homes">The loops its connections live on; none: <see cref="SocketHomes.OwnLoop"/>.</param>
    internal RedisTarget(RedisTargetOptions options, ILogger logger, TargetMetrics metrics, SocketHomes? homes = null)
    {
        homes ??= SocketHomes.OwnLoop;
        _options = options;
        _logger = logger;
        Metrics = metrics;
        _deadlines = new RedisDeadlines(Expire);
        _identity = new RedisIdentity(options, options.Password, options.PasswordFile, options.Name, logger, homes);
        foreach (var (plugin, access) in options.Plugins)
        {
            if (access.User is not null)
            {
                _pluginIdentities[plugin] = new RedisIdentity(
                    options with { User = access.User }, access.Password, access.PasswordFile, $"{options.Name} (plugin {plugin})", logger, homes);
            }
        }
    }

    private enum Outcome
    {
        Ok,
        ErrorReply,
        Timeout,
        NetworkError,
        CircuitOpen,
        BadCommand,
        ReplyTooLarge,
    }

    public string Name => _options.Name;

    internal TargetMetrics Metrics { get; }

    /// <summary>Every plugin's breaker that has been used, for the metrics endpoint.</summary>
    internal IEnumerable<RedisPluginClient> Clients => _clients.Values;

    /// <summary>
    /// The database a plugin picks with <c>?db=N</c> in the cluster name it gives <c>proxy_redis_init</c>: the target's
    /// own (-1) when absent or 0 (what Higress's wrapper sends by default), N when the target lists it in
    /// <c>allowedDatabases</c>; false (logged) for any other.
    /// </summary>
    public bool TryChooseDatabase(ReadOnlySpan<char> query, string plugin, out int database)
    {
        database = -1;
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (!pair.StartsWith("db="))
            {
                continue;
            }

            if (!int.TryParse(pair[3..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int chosen))
            {
                BackendLog.RedisDatabaseRefused(_logger, Name, plugin, pair.ToString());
                return false;
            }

            if (chosen == 0 || chosen == _options.Database)
            {
                return true;
            }

            if (!_options.AllowedDatabases.Contains(chosen) || _options.Topology == RedisTopology.Cluster)
            {
                BackendLog.RedisDatabaseRefused(_logger, Name, plugin, pair.ToString());
                return false;
            }

            database = chosen;
        }

        return true;
    }

    /// <summary>The plugin's access to this target: created on first use, then the same object for every call.</summary>
    public RedisPluginClient ForPlugin(string plugin) =>
        _clients.TryGetValue(plugin, out var client) ? client : _clients.GetOrAdd(plugin, static (name, target) => target.CreateClient(name), this);

    /// <summary>
    /// Never throws. <paramref name="timeoutMs"/> 0 means the configured default; larger values are clamped to the
    /// configured maximum. <paramref name="database"/> -1 means the target's database. Timeouts, connection failures,
    /// an open breaker and an oversized reply all yield NetworkError; an error reply is a reply. The reply reaches
    /// <paramref name="completion"/> through <paramref name="scheduler"/>, straight from the thread that read it.
    /// </summary>
    internal void Start(RedisPluginClient client, AdmittedRedisCommand admitted, int timeoutMs, int database, TaskScheduler scheduler, RedisCallCompletion completion)
    {
        var start = Stopwatch.GetTimestamp();
        if (!client.Breaker.TryEnter())
        {
            completion.OnReply(Complete(client, Outcome.CircuitOpen, start, []));
            return;
        }

        int effectiveMs = timeoutMs <= 0 ? _options.TimeoutMs : Math.Min(timeoutMs, Math.Max(_options.TimeoutMs, _options.MaxTimeoutMs));
        var (name, arguments) = RedisCommandArguments.Build(admitted);
        var call = new RedisCall(client, client.Identity.Acquire(), start, start + (effectiveMs * Stopwatch.Frequency / 1000), completion)
        {
            Command = name,
            Arguments = arguments,
            Database = database < 0 ? _options.Database : database,
            Scheduler = scheduler,
        };
        _deadlines.Add(call);
        if (!call.Connection.IsConnected && !call.Connection.FirstAttempt.IsCompleted)
        {
            // Only right after start or a rotation: send once the first connect attempt ends; the deadline runs meanwhile.
            call.Connection.FirstAttempt.ContinueWith(static (_, s) => Send((RedisCall)s!), call, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        Send(call);
    }

    /// <summary>The same call, its reply as a task.</summary>
    internal Task<RedisReply> CallAsync(RedisPluginClient client, AdmittedRedisCommand admitted, int timeoutMs, int database)
    {
        var reply = new RedisReplyTask();
        Start(client, admitted, timeoutMs, database, TaskScheduler.Default, reply);
        return reply.Task;
    }

    private static void Send(RedisCall call)
    {
        if (call.IsFinished)
        {
            return;
        }

        var target = call.Client.Owner;
        Task<RedisResult>? pending;
        try
        {
            pending = call.Connection.ExecuteAsync(call.Database, call.Command, call.Arguments);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException or InvalidOperationException)
        {
            pending = null;
        }

        if (pending is null)
        {
            target.Finish(call, Outcome.NetworkError, []);
            return;
        }

        pending.ContinueWith(static (task, s) => ((RedisCall)s!).Client.Owner.OnCompleted((RedisCall)s!, task), call, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, call.Scheduler);
    }

    private void OnCompleted(RedisCall call, Task<RedisResult> task)
    {
        if (!call.TryClaim())
        {
            // Timed out before: only observe the late outcome.
            _ = task.Exception;
            return;
        }

        _deadlines.Remove(call);
        RedisReply reply;
        try
        {
            var result = task.GetAwaiter().GetResult();
            reply = RespReplyWriter.Encode(result, MaxReplyBytes) is { } bytes ? Complete(call.Client, Outcome.Ok, call.Start, bytes) : TooLarge(call.Client, call.Start);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOAUTH", StringComparison.Ordinal))
        {
            // Not the plugin's reply: the connection is not authenticated (a wrong or missing password).
            call.Connection.OnAuthenticationRefused();
            reply = Complete(call.Client, Outcome.NetworkError, call.Start, []);
        }
        catch (RedisServerException e)
        {
            // An error reply is a reply (status Ok) and the server is healthy.
            reply = Complete(call.Client, Outcome.ErrorReply, call.Start, RespReplyWriter.Error(e.Message));
        }
        catch (Exception e) when (e is TimeoutException or RedisTimeoutException)
        {
            reply = Complete(call.Client, Outcome.Timeout, call.Start, []);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            reply = Complete(call.Client, Outcome.NetworkError, call.Start, []);
        }

        call.Connection.Release();
        call.Completion.OnReply(reply);
    }

    /// <summary>The deadline passed before the reply: a timeout for the breaker, and the connection is released.</summary>
    private void Expire(RedisCall call) => Finish(call, Outcome.Timeout, []);

    private void Finish(RedisCall call, Outcome outcome, byte[] reply)
    {
        if (call.TryClaim())
        {
            _deadlines.Remove(call);
            var result = Complete(call.Client, outcome, call.Start, reply);
            call.Connection.Release();
            call.Completion.OnReply(result);
        }
    }

    /// <summary>Configuration checks, and waits (up to the connect timeout) for the first connection so the first calls do not pay for it.</summary>
    internal async Task CheckAsync(List<string> problems, CancellationToken ct)
    {
        var connection = _identity.Current;
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

        if (_identity.PasswordFileUnreadable)
        {
            problems.Add($"redis.{Name}.passwordFile: cannot be read");
        }

        foreach (var (plugin, identity) in _pluginIdentities)
        {
            if (identity.PasswordFileUnreadable)
            {
                problems.Add($"plugins.{plugin}.redis.{Name}.passwordFile: cannot be read");
            }
        }

        if (_options.Endpoints.Count == 0)
        {
            problems.Add($"redis.{Name}.endpoints: at least one endpoint is required");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _deadlines.Dispose();
        await _identity.DisposeAsync().ConfigureAwait(false);
        foreach (var identity in _pluginIdentities.Values)
        {
            await identity.DisposeAsync().ConfigureAwait(false);
        }
    }

    private RedisPluginClient CreateClient(string plugin)
    {
        var access = _options.Plugins.GetValueOrDefault(plugin);
        var identity = _pluginIdentities.GetValueOrDefault(plugin) ?? _identity;
        var policy = new RedisCommandPolicy(access?.Scripts ?? [], access?.AllowCommands ?? [], ownIdentity: !ReferenceEquals(identity, _identity));
        return new RedisPluginClient(this, plugin, policy, identity, _options.CircuitBreaker, _logger);
    }

    /// <summary>The plugin asked for too much; Redis is healthy, so the breaker does not count it.</summary>
    private RedisReply TooLarge(RedisPluginClient client, long start)
    {
        Metrics.Record((int)Outcome.ReplyTooLarge, start);
        BackendLog.RedisReplyTooLarge(_logger, Name, client.Plugin, MaxReplyBytes);
        return new RedisReply(RedisCallStatus.NetworkError, []);
    }

    private RedisReply Complete(RedisPluginClient client, Outcome outcome, long start, byte[] reply)
    {
        Metrics.Record((int)outcome, start);
        switch (outcome)
        {
            case Outcome.Ok or Outcome.ErrorReply:
                if (client.Breaker.State != CircuitState.Closed)
                {
                    BackendLog.RedisPluginCircuitClosed(_logger, Name, client.Plugin);
                }

                client.Breaker.RecordSuccess();
                return new RedisReply(RedisCallStatus.Ok, reply);
            case Outcome.Timeout or Outcome.NetworkError:
                if (client.Breaker.RecordFailure())
                {
                    BackendLog.RedisPluginCircuitOpened(_logger, Name, client.Plugin, outcome == Outcome.Timeout ? "timeout" : "network error");
                }

                return new RedisReply(RedisCallStatus.NetworkError, []);
            default:
                return new RedisReply(RedisCallStatus.NetworkError, []);
        }
    }
}
