using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends;

/// <summary>
/// A configured Redis target that plugins reach through <c>proxy_redis_call</c>: the target's own connection, one
/// connection per plugin that has its own ACL identity, a per-call timeout, and per plugin a command policy and a
/// circuit breaker (<see cref="RedisPluginClient"/>). Replies come back byte for byte as Redis sent them.
/// </summary>
public sealed class RedisTarget : IAsyncDisposable
{
    private static readonly string[] OutcomeNames = ["ok", "error_reply", "timeout", "network_error", "circuit_open", "bad_command"];

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
    }

    public string Name => _options.Name;

    internal TargetMetrics Metrics { get; }

    /// <summary>Every plugin's breaker that has been used, for the metrics endpoint.</summary>
    internal IEnumerable<RedisPluginClient> Clients => _clients.Values;

    /// <summary>The plugin's access to this target: created on first use, then the same object for every call.</summary>
    public RedisPluginClient ForPlugin(string plugin) =>
        _clients.TryGetValue(plugin, out var client) ? client : _clients.GetOrAdd(plugin, static (name, target) => target.CreateClient(name), this);

    /// <summary>
    /// Never throws. <paramref name="timeoutMs"/> 0 means the configured default; larger values are
    /// clamped to the configured maximum. Timeouts, connection failures and an open breaker all yield NetworkError.
    /// </summary>
    internal async Task<RedisReply> CallAsync(RedisPluginClient client, AdmittedRedisCommand admitted, int timeoutMs)
    {
        var start = Stopwatch.GetTimestamp();
        if (!client.Breaker.TryEnter())
        {
            return Complete(client, Outcome.CircuitOpen, start, []);
        }

        int effectiveMs = timeoutMs <= 0 ? _options.TimeoutMs : Math.Min(timeoutMs, Math.Max(_options.TimeoutMs, _options.MaxTimeoutMs));
        long deadline = start + (long)(effectiveMs / 1000.0 * Stopwatch.Frequency);
        var connection = client.Identity.Acquire();
        try
        {
            if (!connection.IsConnected && !connection.FirstAttempt.IsCompleted)
            {
                // Only right after start or a rotation: wait (within the call's own time) for the first connect.
                await connection.FirstAttempt.WaitAsync(Stopwatch.GetElapsedTime(start, deadline)).ConfigureAwait(false);
            }

            RespOutcome outcome = await connection.CallAsync(admitted.Command.Resp.Span, deadline).ConfigureAwait(false);
            return outcome.Kind switch
            {
                // An error reply is a reply (status Ok); the server is healthy.
                RespOutcomeKind.Reply => Complete(client, outcome.Reply[0] == (byte)'-' ? Outcome.ErrorReply : Outcome.Ok, start, outcome.Reply),
                RespOutcomeKind.Timeout => Complete(client, Outcome.Timeout, start, []),
                _ => Complete(client, Outcome.NetworkError, start, []),
            };
        }
        catch (TimeoutException)
        {
            return Complete(client, Outcome.Timeout, start, []);
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
