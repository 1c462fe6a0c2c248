using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends.Redis;

/// <summary>
/// One plugin's access to one Redis target: its command policy, its own circuit breaker (one plugin's timeout storm
/// never cuts Redis off for the others), and the identity its calls run under. Refusals are logged once per command.
/// </summary>
public sealed class RedisPluginClient
{
    private readonly RedisTarget _target;
    private readonly RedisCommandPolicy _policy;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, byte> _refusalsLogged = new(StringComparer.Ordinal);

    internal RedisPluginClient(RedisTarget target, string plugin, RedisCommandPolicy policy, RedisIdentity identity, CircuitBreakerOptions breaker, ILogger logger)
    {
        _target = target;
        Plugin = plugin;
        _policy = policy;
        Identity = identity;
        _logger = logger;
        Breaker = new CircuitBreaker(breaker);
    }

    public string Plugin { get; }

    internal RedisTarget Owner => _target;

    public string Target => _target.Name;

    internal CircuitBreaker Breaker { get; }

    internal RedisIdentity Identity { get; }

    /// <summary>
    /// Parses and checks a plugin's command before anything is sent: null (and one log line per plugin and command)
    /// when it is malformed or the policy refuses it; the host call then answers BAD_ARGUMENT.
    /// </summary>
    public AdmittedRedisCommand? Admit(byte[] resp)
    {
        if (RespCommand.Parse(resp) is not { } command)
        {
            LogOnce("(malformed)", "the query must be exactly one RESP array of bulk strings with plain decimal lengths", malformed: true);
            return null;
        }

        switch (_policy.Check(command, out var spec, out string subject, out string remedy))
        {
            case RedisVerdict.Allowed:
                return new AdmittedRedisCommand(command, spec);
            case RedisVerdict.Malformed:
                LogOnce("(malformed script call)", "numkeys must be a plain decimal no larger than the number of arguments after it", malformed: true);
                return null;
            default:
                LogOnce(subject, remedy, malformed: false);
                return null;
        }
    }

    /// <summary>
    /// Starts a command returned by <see cref="Admit"/> (on <paramref name="database"/>, -1: the target's); the reply
    /// goes to <paramref name="completion"/>, run on <paramref name="scheduler"/> when it comes from Redis. Never throws.
    /// </summary>
    public void Start(AdmittedRedisCommand command, int timeoutMs, int database, TaskScheduler scheduler, RedisCallCompletion completion) =>
        _target.Start(this, command, timeoutMs, database, scheduler, completion);

    /// <summary>Runs a command returned by <see cref="Admit"/> (on <paramref name="database"/>, -1: the target's). Never throws.</summary>
    public Task<RedisReply> CallAsync(AdmittedRedisCommand command, int timeoutMs, int database = -1) => _target.CallAsync(this, command, timeoutMs, database);

    private void LogOnce(string subject, string remedy, bool malformed)
    {
        if (_refusalsLogged.TryAdd(subject, 0))
        {
            if (malformed)
            {
                BackendLog.RedisCommandMalformed(_logger, _target.Name, Plugin, remedy);
            }
            else
            {
                BackendLog.RedisCommandRefused(_logger, _target.Name, Plugin, subject, remedy);
            }
        }
    }
}

/// <summary>A plugin's command that passed its policy, with where its keys are.</summary>
public sealed class AdmittedRedisCommand
{
    internal AdmittedRedisCommand(RespCommand command, RedisCommandSpec spec)
    {
        Command = command;
        Spec = spec;
    }

    internal RespCommand Command { get; }

    internal RedisCommandSpec Spec { get; }
}
