using System.Text;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends;

/// <summary>Every configured Redis target and database of one configuration snapshot.</summary>
public sealed class BackendRegistry : IAsyncDisposable
{
    private readonly Dictionary<string, RedisTarget> _redis;
    private readonly Dictionary<string, SqlDatabase> _databases;

    private BackendRegistry(Dictionary<string, RedisTarget> redis, Dictionary<string, SqlDatabase> databases)
    {
        _redis = redis;
        _databases = databases;
    }

    public static BackendRegistry Create(IReadOnlyList<RedisTargetOptions> redis, IReadOnlyList<DatabaseOptions> databases, ILoggerFactory loggerFactory)
    {
        var redisByName = new Dictionary<string, RedisTarget>(StringComparer.Ordinal);
        foreach (var options in redis)
        {
            var target = new RedisTarget(options);
            redisByName[options.Name] = target;
            foreach (var alias in options.Aliases)
            {
                redisByName[alias] = target;
            }
        }

        var databasesByName = new Dictionary<string, SqlDatabase>(StringComparer.Ordinal);
        foreach (var options in databases)
        {
            databasesByName[options.Name] = new SqlDatabase(options);
        }

        return new BackendRegistry(redisByName, databasesByName);
    }

    /// <summary>Start-up checks; returns every problem prefixed with its configuration key path.</summary>
    public Task<IReadOnlyList<string>> CheckAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>Finds a target by name or alias, ignoring Higress' <c>?db=..</c> option suffix (ABI §10.2).</summary>
    public RedisTarget? FindRedis(string nameOrAlias)
    {
        var query = nameOrAlias.IndexOf('?');
        var name = query < 0 ? nameOrAlias : nameOrAlias[..query];
        return _redis.GetValueOrDefault(name);
    }

    public SqlDatabase? FindDatabase(string name) => _databases.GetValueOrDefault(name);

    public void WritePrometheus(StringBuilder output)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
