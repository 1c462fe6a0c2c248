using System.Text.Json.Serialization;

namespace Gateway.Backends;

/// <summary>
/// Config <c>redis.&lt;name&gt;</c> (README, 'Configuration reference'): one Redis deployment plugins may name. Owns the
/// defaults the config record uses; its TLS and circuit breaker records are bound from the config as they are.
/// </summary>
public sealed record RedisTargetOptions
{
    public const int DefaultTimeoutMs = 50;
    /// <summary>The cap on a plugin's per-call timeout when the config sets none, unless <see cref="TimeoutMs"/> is larger.</summary>
    public const int DefaultMaxTimeoutMs = 1000;
    public const int DefaultConnectTimeoutMs = 1000;

    public required string Name { get; init; }
    /// <summary>Standalone: one server; Cluster: the endpoints are seeds; Sentinel: the endpoints are sentinels.</summary>
    public RedisTopology Topology { get; init; }
    public IReadOnlyList<string> Endpoints { get; init; } = ["127.0.0.1:6379"];
    /// <summary>The master's name the sentinels know (topology Sentinel).</summary>
    public string? SentinelService { get; init; }
    public RedisTlsOptions? Tls { get; init; }
    /// <summary>Databases a plugin may pick with <c>?db=N</c> in <c>proxy_redis_init</c>, besides <see cref="Database"/>.</summary>
    public IReadOnlyList<int> AllowedDatabases { get; init; } = [];
    public string? User { get; init; }
    /// <summary>Resolved password when given inline; <see cref="PasswordFile"/> wins when both are set.</summary>
    public string? Password { get; init; }
    /// <summary>Mounted secret, re-read when it changes so rotation needs no restart.</summary>
    public string? PasswordFile { get; init; }
    public int Database { get; init; }
    /// <summary>Cluster names unmodified Higress plugins pass to <c>proxy_redis_init</c> (docs/proxy-wasm.md, 'Calls that wait').</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
    /// <summary>Per-call timeout when the plugin gives none.</summary>
    public int TimeoutMs { get; init; } = DefaultTimeoutMs;
    /// <summary>The largest per-call timeout a plugin may ask for in <c>proxy_redis_init</c>.</summary>
    public int MaxTimeoutMs { get; init; } = DefaultMaxTimeoutMs;
    public int ConnectTimeoutMs { get; init; } = DefaultConnectTimeoutMs;
    public CircuitBreakerOptions CircuitBreaker { get; init; } = new();
    /// <summary>Per-plugin access: scripts, widened commands, and the plugin's own ACL identity, by plugin name.</summary>
    public IReadOnlyDictionary<string, RedisPluginAccessOptions> Plugins { get; init; } = new Dictionary<string, RedisPluginAccessOptions>();
}

/// <summary>Config <c>redis.&lt;name&gt;.topology</c>; standalone unless set (the enum's zero value).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RedisTopology>))]
public enum RedisTopology
{
    [JsonStringEnumMemberName("standalone")] Standalone,
    [JsonStringEnumMemberName("cluster")] Cluster,
    [JsonStringEnumMemberName("sentinel")] Sentinel,
}

/// <summary>Config <c>redis.&lt;name&gt;.tls</c>: TLS to Redis, verified against <see cref="CaFile"/> (or the system store) and <see cref="ServerName"/>.</summary>
public sealed record RedisTlsOptions
{
    public bool Enabled { get; init; }
    /// <summary>Absolute paths after loading (relative paths are against the config file's folder).</summary>
    public string? CaFile { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    /// <summary>The name the server certificate must carry; default: the endpoint host.</summary>
    public string? ServerName { get; init; }
}

/// <summary>Config <c>plugins.&lt;p&gt;.redis.&lt;target&gt;</c>: what one plugin may do on one Redis target.</summary>
public sealed record RedisPluginAccessOptions
{
    /// <summary>ACL user the plugin's calls run as; null runs them on the target's own connection.</summary>
    public string? User { get; init; }
    public string? Password { get; init; }
    public string? PasswordFile { get; init; }
    /// <summary>SHA-1s (hex) of the scripts the plugin may run with EVAL/EVALSHA.</summary>
    public IReadOnlyList<string> Scripts { get; init; } = [];
    /// <summary>Commands outside the default policy the operator allows for this plugin.</summary>
    public IReadOnlyList<string> AllowCommands { get; init; } = [];
}

/// <summary>Config <c>redis.&lt;name&gt;.circuitBreaker</c> and <c>databases.&lt;name&gt;.circuitBreaker</c>.</summary>
public sealed record CircuitBreakerOptions
{
    /// <summary>Consecutive failures that open the breaker.</summary>
    public int FailureThreshold { get; init; } = 5;
    /// <summary>How long the breaker stays open before one half-open probe is let through.</summary>
    public int OpenMs { get; init; } = 5000;
}

/// <summary>
/// Config <c>databases.&lt;name&gt;</c> (README, 'Configuration reference', docs/proxy-wasm.md, 'The SQL extension'). Owns
/// the defaults the config record uses; its statements and circuit breaker are bound from the config as they are.
/// </summary>
public sealed record DatabaseOptions
{
    public const int DefaultTimeoutMs = 100;
    public const int DefaultMaxPoolSize = 32;
    public const int DefaultMinPoolSize = 4;

    public required string Name { get; init; }
    /// <summary>PostgreSQL unless set (the enum's zero value).</summary>
    public DatabaseProvider Provider { get; init; }
    /// <summary>Without the password: that comes from <see cref="Password"/> or <see cref="PasswordFile"/>.</summary>
    public required string ConnectionString { get; init; }
    public string? Password { get; init; }
    public string? PasswordFile { get; init; }
    /// <summary>Default and maximum per-call timeout, covering the pool wait and the execution.</summary>
    public int TimeoutMs { get; init; } = DefaultTimeoutMs;
    public int MaxPoolSize { get; init; } = DefaultMaxPoolSize;
    /// <summary>Connections opened at start and kept open while idle; more than <see cref="MaxPoolSize"/> count as that many.</summary>
    public int MinPoolSize { get; init; } = DefaultMinPoolSize;

    internal int KeptOpen => Math.Min(MinPoolSize, MaxPoolSize);
    /// <summary>Connections one plugin may hold at once; 0 = half of <see cref="MaxPoolSize"/>, rounded up.</summary>
    public int MaxConnectionsPerPlugin { get; init; }
    /// <summary>PEM CA bundle the server's certificate is verified against (with an <c>SSL Mode</c> that verifies).</summary>
    public string? CaFile { get; init; }
    public IReadOnlyDictionary<string, StatementOptions> Statements { get; init; } = new Dictionary<string, StatementOptions>();
    public CircuitBreakerOptions CircuitBreaker { get; init; } = new();
}

[JsonConverter(typeof(JsonStringEnumConverter<DatabaseProvider>))]
public enum DatabaseProvider
{
    [JsonStringEnumMemberName("postgresql")] PostgreSql,
    /// <summary>MySQL and MariaDB (MySqlConnector).</summary>
    [JsonStringEnumMemberName("mysql")] MySql,
}

/// <summary>A named statement (docs/proxy-wasm.md, 'The SQL extension'): plugins name it and never send SQL text.</summary>
public sealed record StatementOptions
{
    public required string Sql { get; init; }
    /// <summary>Rows beyond this are dropped and the result is flagged TRUNCATED (docs/proxy-wasm.md, 'The SQL extension').</summary>
    public int MaxRows { get; init; } = 1000;
    /// <summary>An encoded result larger than this fails with RESULT_TOO_LARGE (docs/proxy-wasm.md, 'The SQL extension').</summary>
    public int MaxResultBytes { get; init; } = 65536;
}
