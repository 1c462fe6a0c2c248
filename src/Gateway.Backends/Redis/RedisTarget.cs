using System.Collections.Concurrent;
using System.Diagnostics;
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
    private static readonly string[] OutcomeNames = ["ok", "error_reply", "timeout", "network_error", "circuit_open", "bad_command", "reply_too_large"];

    /// <summary>A reply larger than this fails its call only (Redis's own default limit for one bulk string is 512 MB).</summary>
    private const int MaxReplyBytes = 64 * 1024 * 1024;

    private readonly RedisTargetOptions _options;
    private readonly ILogger _logger;
    private readonly RedisIdentity _identity;
    private readonly Dictionary<string, RedisIdentity> _pluginIdentities = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RedisPluginClient> _clients = new(StringComparer.Ordinal);

    internal RedisTarget(RedisTargetOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        Metrics = new TargetMetrics(options.Name, OutcomeNames);
        _identity = new RedisIdentity(options, options.Password, options.PasswordFile, options.Name, logger);
        foreach (var (plugin, access) in options.Plugins)
        {
            if (access.User is not null)
            {
                _pluginIdentities[plugin] = new RedisIdentity(
                    options with { User = access.User }, access.Password, access.PasswordFile, $"{options.Name} (plugin {plugin})", logger);
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
    /// an open breaker and an oversized reply all yield NetworkError; an error reply is a reply.
    /// </summary>
    internal async Task<RedisReply> CallAsync(RedisPluginClient client, AdmittedRedisCommand admitted, int timeoutMs, int database)
    {
        var start = Stopwatch.GetTimestamp();
        if (!client.Breaker.TryEnter())
        {
            return Complete(client, Outcome.CircuitOpen, start, []);
        }

        int effectiveMs = timeoutMs <= 0 ? _options.TimeoutMs : Math.Min(timeoutMs, Math.Max(_options.TimeoutMs, _options.MaxTimeoutMs));
        var (name, arguments) = RedisCommandArguments.Build(admitted);
        var connection = client.Identity.Acquire();
        Task<RedisResult>? call = null;
        try
        {
            if (!connection.IsConnected && !connection.FirstAttempt.IsCompleted)
            {
                // Only right after start or a rotation: wait (within the call's own time) for the first connect.
                await connection.FirstAttempt.WaitAsync(TimeSpan.FromMilliseconds(effectiveMs)).ConfigureAwait(false);
            }

            call = connection.ExecuteAsync(database < 0 ? _options.Database : database, name, arguments);
            if (call is null)
            {
                return Complete(client, Outcome.NetworkError, start, []);
            }

            var result = await call.WaitAsync(TimeSpan.FromMilliseconds(effectiveMs) - Stopwatch.GetElapsedTime(start) is { Ticks: > 0 } left ? left : TimeSpan.Zero).ConfigureAwait(false);
            return RespReplyWriter.Encode(result, MaxReplyBytes) is { } reply
                ? Complete(client, Outcome.Ok, start, reply)
                : TooLarge(client, start);
        }
        catch (RedisServerException e)
        {
            // An error reply is a reply (status Ok) and the server is healthy.
            return Complete(client, Outcome.ErrorReply, start, RespReplyWriter.Error(e.Message));
        }
        catch (Exception e) when (e is TimeoutException or RedisTimeoutException)
        {
            ObserveLater(call);
            return Complete(client, Outcome.Timeout, start, []);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException or InvalidOperationException)
        {
            return Complete(client, Outcome.NetworkError, start, []);
        }
        finally
        {
            connection.Release();
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

    /// <summary>A call abandoned at its deadline may still fail later; its exception is observed, not left to the finalizer.</summary>
    private static void ObserveLater(Task? call) =>
        call?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

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
