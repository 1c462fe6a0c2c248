using System.Text;
using Gateway.Backends.Redis;
using Gateway.Backends.Sql;
using Gateway.Http.Transport;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends;

/// <summary>
/// Every Redis target and database of one configuration snapshot, shared by all workers. Created
/// without blocking (connections are opened in the background); disposed when the snapshot is retired.
/// </summary>
public sealed class BackendRegistry : IAsyncDisposable
{
    private readonly Dictionary<string, RedisTarget> _redisByName;
    private readonly RedisTarget[] _redis;
    private readonly Dictionary<string, SqlDatabase> _databasesByName;
    private readonly SqlDatabase[] _databases;
    private readonly List<string> _configurationProblems;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), byte> _unknownRedisNames = new();

    private BackendRegistry(RedisTarget[] redis, Dictionary<string, RedisTarget> redisByName, SqlDatabase[] databases, List<string> configurationProblems)
    {
        _redis = redis;
        _redisByName = redisByName;
        _databases = databases;
        _configurationProblems = configurationProblems;
        _databasesByName = new Dictionary<string, SqlDatabase>(StringComparer.Ordinal);
        foreach (var database in databases)
        {
            _databasesByName[database.Name] = database;
        }
    }

    /// <summary>
    /// Builds the targets of one configuration. Their call metrics come from <paramref name="metrics"/>, which the
    /// gateway keeps for the process; without it the registry counts on its own. Redis connections live on
    /// <paramref name="homes"/> (the gateway's workers); without them, on <see cref="SocketHomes.OwnLoop"/>.
    /// </summary>
    public static BackendRegistry Create(
        IReadOnlyList<RedisTargetOptions> redis, IReadOnlyList<DatabaseOptions> databases, ILoggerFactory loggerFactory,
        BackendMetrics? metrics = null, SocketHomes? homes = null)
    {
        metrics ??= new BackendMetrics();
        var problems = new List<string>();
        var redisLogger = loggerFactory.CreateLogger<RedisTarget>();
        var redisTargets = new RedisTarget[redis.Count];
        var redisByName = new Dictionary<string, RedisTarget>(StringComparer.Ordinal);
        for (var i = 0; i < redis.Count; i++)
        {
            var options = redis[i];
            var target = redisTargets[i] = new RedisTarget(options, redisLogger, metrics.Redis(options.Name, RedisTarget.OutcomeNames), homes);
            if (!redisByName.TryAdd(options.Name, target))
            {
                problems.Add($"redis.{options.Name}: the name is already used by another target or alias");
            }

            foreach (var alias in options.Aliases)
            {
                if (!redisByName.TryAdd(alias, target))
                {
                    problems.Add($"redis.{options.Name}.aliases: '{alias}' is already used by another target or alias");
                }
            }
        }

        var sqlLogger = loggerFactory.CreateLogger<SqlDatabase>();
        var sqlDatabases = new SqlDatabase[databases.Count];
        for (var i = 0; i < databases.Count; i++)
        {
            sqlDatabases[i] = new SqlDatabase(databases[i], sqlLogger, metrics.Sql(databases[i].Name, SqlDatabase.StatusNames));
        }

        return new BackendRegistry(redisTargets, redisByName, sqlDatabases, problems);
    }

    /// <summary>
    /// Start-up checks: every SQL statement is prepared by its database and its parameter types
    /// recorded; password files are readable. Returns every problem prefixed with its configuration
    /// key path. An unreachable database is logged as a warning, not returned: its statements are
    /// described on first use.
    /// </summary>
    public async Task<IReadOnlyList<string>> CheckAsync(CancellationToken ct)
    {
        var problems = new List<string>(_configurationProblems);
        foreach (var target in _redis)
        {
            await target.CheckAsync(problems, ct).ConfigureAwait(false);
        }

        foreach (var database in _databases)
        {
            await database.CheckAsync(problems, ct).ConfigureAwait(false);
        }

        return problems;
    }

    /// <summary>
    /// After a reload: each database opens its pool's minimum (<c>minPoolSize</c>) as it does at start, so the traffic
    /// that moves to a rebuilt database does not open its connections one call at a time. Failures are logged
    /// (<c>database_pool_not_filled</c>); the connections are then opened on demand.
    /// </summary>
    public Task WarmAsync(CancellationToken ct) => Task.WhenAll(_databases.Select(d => d.WarmAsync(ct)));

    /// <summary>
    /// Finds a target by name or alias. <c>proxy_redis_init</c> appends client options as a query
    /// string (<c>cluster?db=1&amp;…</c>); everything from the first '?' is ignored (docs/proxy-wasm.md, 'Calls that wait').
    /// </summary>
    public RedisTarget? FindRedis(string nameOrAlias)
    {
        var query = nameOrAlias.IndexOf('?');
        if (query < 0)
        {
            return _redisByName.GetValueOrDefault(nameOrAlias);
        }

        return _redisByName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(nameOrAlias.AsSpan(0, query), out var target) ? target : null;
    }

    /// <summary>Every Redis target name and alias, for the log line about an unknown cluster name.</summary>
    public string RedisNames => _redisByName.Count == 0 ? "none" : string.Join(", ", _redisByName.Keys.Order(StringComparer.Ordinal));

    /// <summary>True the first time <paramref name="plugin"/> names the unknown Redis cluster <paramref name="name"/>: it is logged once.</summary>
    public bool IsFirstUnknownRedisName(string plugin, string name) => _unknownRedisNames.TryAdd((plugin, name), 0);

    public SqlDatabase? FindDatabase(string name) => _databasesByName.GetValueOrDefault(name);

    /// <summary>Per target: calls by status, latency histogram; breaker state per target (SQL) or per target and plugin (Redis). Prometheus text format.</summary>
    public void WritePrometheus(StringBuilder output)
    {
        var redisMetrics = new TargetMetrics[_redis.Length];
        for (var i = 0; i < _redis.Length; i++)
        {
            redisMetrics[i] = _redis[i].Metrics;
        }

        TargetMetrics.WriteAll(output, "redis", redisMetrics, breakers: null);
        RedisCircuitMetrics.Write(output, _redis);

        var sqlMetrics = new TargetMetrics[_databases.Length];
        var sqlBreakers = new CircuitBreaker[_databases.Length];
        for (var i = 0; i < _databases.Length; i++)
        {
            sqlMetrics[i] = _databases[i].Metrics;
            sqlBreakers[i] = _databases[i].Breaker;
        }

        TargetMetrics.WriteAll(output, "sql", sqlMetrics, sqlBreakers);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var target in _redis)
        {
            await target.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var database in _databases)
        {
            await database.DisposeAsync().ConfigureAwait(false);
        }
    }
}
