using Gateway.Backends;

namespace Gateway.Configuration;

/// <summary>
/// Config <c>redis.&lt;name&gt;</c>: a Redis deployment plugins name; the guest never sees endpoints or credentials.
/// Defaults are <see cref="RedisTargetOptions"/>'s; TLS and the circuit breaker bind to the backend layer's records.
/// </summary>
public sealed record RedisConfig
{
    /// <summary>standalone: one server; cluster: the endpoints are seeds; sentinel: the endpoints are sentinels.</summary>
    public RedisTopology Topology { get; init; }
    public required IReadOnlyList<string> Endpoints { get; init; }
    /// <summary>The master's name the sentinels know (topology sentinel).</summary>
    public string? SentinelService { get; init; }
    public RedisTlsOptions? Tls { get; init; }
    /// <summary>Databases a plugin may choose with <c>?db=N</c> in <c>proxy_redis_init</c>, besides <see cref="Database"/>.</summary>
    public IReadOnlyList<int> AllowedDatabases { get; init; } = [];
    public string? User { get; init; }
    public string? Password { get; init; }
    /// <summary>Absolute path after loading (relative paths are against the config file's folder).</summary>
    public string? PasswordFile { get; init; }
    public int Database { get; init; }
    /// <summary>Cluster names unmodified Higress plugins pass to <c>proxy_redis_init</c>.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
    /// <summary>Per-call timeout when the plugin gives none.</summary>
    public int TimeoutMs { get; init; } = RedisTargetOptions.DefaultTimeoutMs;
    /// <summary>The largest per-call timeout a plugin may ask for in <c>proxy_redis_init</c>; unset: <see cref="RedisTargetOptions.DefaultMaxTimeoutMs"/> or timeoutMs if larger.</summary>
    public int? MaxTimeoutMs { get; init; }
    public int ConnectTimeoutMs { get; init; } = RedisTargetOptions.DefaultConnectTimeoutMs;
    public CircuitBreakerOptions CircuitBreaker { get; init; } = new();

    public bool Equals(RedisConfig? other) =>
        other is not null
        && Topology == other.Topology
        && ConfigEquality.Lists(Endpoints, other.Endpoints)
        && SentinelService == other.SentinelService
        && Tls == other.Tls
        && ConfigEquality.Lists(AllowedDatabases, other.AllowedDatabases)
        && User == other.User
        && Password == other.Password
        && PasswordFile == other.PasswordFile
        && Database == other.Database
        && ConfigEquality.Lists(Aliases, other.Aliases)
        && TimeoutMs == other.TimeoutMs
        && MaxTimeoutMs == other.MaxTimeoutMs
        && ConnectTimeoutMs == other.ConnectTimeoutMs
        && CircuitBreaker == other.CircuitBreaker;

    public override int GetHashCode() =>
        HashCode.Combine(ConfigEquality.ListHash(Endpoints), User, PasswordFile, Database, ConfigEquality.ListHash(Aliases), TimeoutMs, ConnectTimeoutMs);
}

/// <summary>
/// Config <c>databases.&lt;name&gt;</c>. Defaults are <see cref="DatabaseOptions"/>'s; statements and the circuit breaker
/// bind to the backend layer's records.
/// </summary>
public sealed record DatabaseConfig
{
    public DatabaseProvider Provider { get; init; }
    /// <summary>Without the password, which comes from <see cref="Password"/> or <see cref="PasswordFile"/>.</summary>
    public required string ConnectionString { get; init; }
    public string? Password { get; init; }
    /// <summary>Absolute path after loading (relative paths are against the config file's folder).</summary>
    public string? PasswordFile { get; init; }
    public int TimeoutMs { get; init; } = DatabaseOptions.DefaultTimeoutMs;
    public int MaxPoolSize { get; init; } = DatabaseOptions.DefaultMaxPoolSize;
    /// <summary>Connections opened at start and kept while idle, so the first calls find them open. Null = 4, or <see cref="MaxPoolSize"/> if smaller.</summary>
    public int? MinPoolSize { get; init; }
    /// <summary>Connections one plugin may hold at once, so one plugin's burst leaves the rest of the pool to the others. Null = half of <see cref="MaxPoolSize"/>, rounded up.</summary>
    public int? MaxConnectionsPerPlugin { get; init; }
    /// <summary>PEM CA bundle for TLS to the database (absolute after loading); the connection string's SSL Mode decides whether TLS is used.</summary>
    public string? CaFile { get; init; }
    /// <summary>Statement id → statement. In JSON a bare string is shorthand for <c>{ "sql": … }</c>.</summary>
    public IReadOnlyDictionary<string, StatementOptions> Statements { get; init; } = new Dictionary<string, StatementOptions>();
    public CircuitBreakerOptions CircuitBreaker { get; init; } = new();

    public bool Equals(DatabaseConfig? other) =>
        other is not null
        && Provider == other.Provider
        && ConnectionString == other.ConnectionString
        && Password == other.Password
        && PasswordFile == other.PasswordFile
        && TimeoutMs == other.TimeoutMs
        && MaxPoolSize == other.MaxPoolSize
        && MinPoolSize == other.MinPoolSize
        && MaxConnectionsPerPlugin == other.MaxConnectionsPerPlugin
        && CaFile == other.CaFile
        && ConfigEquality.Maps(Statements, other.Statements)
        && CircuitBreaker == other.CircuitBreaker;

    public override int GetHashCode() =>
        HashCode.Combine(Provider, ConnectionString, PasswordFile, TimeoutMs, MaxPoolSize, ConfigEquality.MapHash(Statements));
}
