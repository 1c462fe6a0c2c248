using System.Text.Json.Serialization;

namespace Gateway.Configuration;

/// <summary>Config <c>redis.&lt;name&gt;</c>: a Redis deployment plugins name; the guest never sees endpoints or credentials.</summary>
public sealed record RedisConfig
{
    /// <summary>standalone: one server; cluster: the endpoints are seeds; sentinel: the endpoints are sentinels.</summary>
    public RedisTopologyConfig Topology { get; init; } = RedisTopologyConfig.Standalone;
    public required IReadOnlyList<string> Endpoints { get; init; }
    /// <summary>The master's name the sentinels know (topology sentinel).</summary>
    public string? SentinelService { get; init; }
    public RedisTlsConfig? Tls { get; init; }
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
    public int TimeoutMs { get; init; } = 50;
    /// <summary>The largest per-call timeout a plugin may ask for in <c>proxy_redis_init</c>; unset: 1000 or timeoutMs if larger.</summary>
    public int? MaxTimeoutMs { get; init; }
    public int ConnectTimeoutMs { get; init; } = 1000;
    public CircuitBreakerConfig CircuitBreaker { get; init; } = new();

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

[JsonConverter(typeof(JsonStringEnumConverter<RedisTopologyConfig>))]
public enum RedisTopologyConfig
{
    [JsonStringEnumMemberName("standalone")] Standalone,
    [JsonStringEnumMemberName("cluster")] Cluster,
    [JsonStringEnumMemberName("sentinel")] Sentinel,
}

/// <summary>TLS to Redis, verified against <see cref="CaFile"/> (or the system store) and <see cref="ServerName"/>.</summary>
public sealed record RedisTlsConfig
{
    public bool Enabled { get; init; }
    /// <summary>Absolute paths after loading (relative paths are against the config file's folder).</summary>
    public string? CaFile { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    /// <summary>Default: the endpoint host.</summary>
    public string? ServerName { get; init; }
}

public sealed record DatabaseConfig
{
    public DatabaseProvider Provider { get; init; } = DatabaseProvider.PostgreSql;
    /// <summary>Without the password, which comes from <see cref="Password"/> or <see cref="PasswordFile"/>.</summary>
    public required string ConnectionString { get; init; }
    public string? Password { get; init; }
    /// <summary>Absolute path after loading (relative paths are against the config file's folder).</summary>
    public string? PasswordFile { get; init; }
    public int TimeoutMs { get; init; } = 100;
    public int MaxPoolSize { get; init; } = 32;
    /// <summary>Connections one plugin may hold at once, so one plugin's burst leaves the rest of the pool to the others. Null = half of <see cref="MaxPoolSize"/>, rounded up.</summary>
    public int? MaxConnectionsPerPlugin { get; init; }
    /// <summary>PEM CA bundle for TLS to the database (absolute after loading); the connection string's SSL Mode decides whether TLS is used.</summary>
    public string? CaFile { get; init; }
    /// <summary>Statement id → statement. In JSON a bare string is shorthand for <c>{ "sql": … }</c>.</summary>
    public IReadOnlyDictionary<string, StatementConfig> Statements { get; init; } = new Dictionary<string, StatementConfig>();
    public CircuitBreakerConfig CircuitBreaker { get; init; } = new();

    public bool Equals(DatabaseConfig? other) =>
        other is not null
        && Provider == other.Provider
        && ConnectionString == other.ConnectionString
        && Password == other.Password
        && PasswordFile == other.PasswordFile
        && TimeoutMs == other.TimeoutMs
        && MaxPoolSize == other.MaxPoolSize
        && MaxConnectionsPerPlugin == other.MaxConnectionsPerPlugin
        && CaFile == other.CaFile
        && ConfigEquality.Maps(Statements, other.Statements)
        && CircuitBreaker == other.CircuitBreaker;

    public override int GetHashCode() =>
        HashCode.Combine(Provider, ConnectionString, PasswordFile, TimeoutMs, MaxPoolSize, ConfigEquality.MapHash(Statements));
}

[JsonConverter(typeof(JsonStringEnumConverter<DatabaseProvider>))]
public enum DatabaseProvider
{
    [JsonStringEnumMemberName("postgresql")] PostgreSql,
    /// <summary>MySQL and MariaDB (MySqlConnector).</summary>
    [JsonStringEnumMemberName("mysql")] MySql,
}

/// <summary>A named statement: plugins name it and pass typed parameters, never SQL text.</summary>
public sealed record StatementConfig
{
    public required string Sql { get; init; }
    /// <summary>Rows beyond this are dropped and the result is flagged truncated.</summary>
    public int MaxRows { get; init; } = 1000;
    /// <summary>An encoded result larger than this fails the call.</summary>
    public int MaxResultBytes { get; init; } = 65536;
}

public sealed record CircuitBreakerConfig
{
    /// <summary>Consecutive failures that open the breaker.</summary>
    public int FailureThreshold { get; init; } = 5;
    /// <summary>How long the breaker stays open before one probe is let through.</summary>
    public int OpenMs { get; init; } = 5000;
}
