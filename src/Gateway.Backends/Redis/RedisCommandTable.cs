using System.Buffers;
using System.Collections.Frozen;
using System.Text;

namespace Gateway.Backends.Redis;

/// <summary>How a command is treated by the command policy.</summary>
internal enum RedisCommandKind : byte
{
    /// <summary>Not in the table: refused unless the plugin's <c>allowCommands</c> lists it.</summary>
    Unlisted,
    /// <summary>One reply, never blocks, no connection state: allowed for every plugin.</summary>
    Data,
    /// <summary>Runs code inside Redis: allowed for listed SHA-1s or under the plugin's own ACL user.</summary>
    Script,
    /// <summary>Changes the connection's state, blocks it, or answers more or less than once: never allowed.</summary>
    Never,
}

/// <param name="FirstKey">Index of the first key argument (0: none).</param>
/// <param name="LastKey">Index of the last key; negative counts from the end (-1: the last argument).</param>
/// <param name="Step">Distance between keys (2 for MSET's key/value pairs).</param>
internal readonly record struct RedisCommandSpec(RedisCommandKind Kind, sbyte FirstKey, sbyte LastKey, byte Step)
{
    /// <summary>The command's name as the table spells it, so a call needs no string of its own.</summary>
    public string? Name { get; init; }
}

/// <summary>
/// The commands a plugin may send, with where their keys are so Cluster routes them; and the commands no
/// configuration can allow because they would break the connection other calls share.
/// </summary>
internal static class RedisCommandTable
{
    private const int MaxNameLength = 32;

    private static readonly FrozenDictionary<string, RedisCommandSpec> Specs = Build();

    private static readonly FrozenDictionary<string, RedisCommandSpec>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        Specs.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The spec of a command name (ASCII, any case); <see cref="RedisCommandKind.Unlisted"/> when unknown.</summary>
    public static RedisCommandSpec Find(ReadOnlySpan<byte> name)
    {
        Span<char> chars = stackalloc char[MaxNameLength];
        if (name.Length > MaxNameLength || Ascii.ToUtf16(name, chars, out int written) != OperationStatus.Done)
        {
            return default;
        }

        return Lookup.TryGetValue(chars[..written], out var spec) ? spec : default;
    }

    public static RedisCommandSpec Find(string name) => Specs.GetValueOrDefault(name);

    private static FrozenDictionary<string, RedisCommandSpec> Build()
    {
        var specs = new Dictionary<string, RedisCommandSpec>(StringComparer.OrdinalIgnoreCase);
        void Add(RedisCommandSpec spec, params string[] names)
        {
            foreach (var name in names)
            {
                specs[name] = spec with { Name = name };
            }
        }

        var oneKey = new RedisCommandSpec(RedisCommandKind.Data, 1, 1, 1);
        var twoKeys = new RedisCommandSpec(RedisCommandKind.Data, 1, 2, 1);
        var allKeys = new RedisCommandSpec(RedisCommandKind.Data, 1, -1, 1);
        var noKeys = new RedisCommandSpec(RedisCommandKind.Data, 0, 0, 1);
        var never = new RedisCommandSpec(RedisCommandKind.Never, 0, 0, 1);

        // Strings and bits.
        Add(oneKey, "GET", "SET", "SETNX", "SETEX", "PSETEX", "GETSET", "GETDEL", "GETEX", "APPEND", "STRLEN", "INCR", "INCRBY",
            "INCRBYFLOAT", "DECR", "DECRBY", "GETRANGE", "SETRANGE", "SUBSTR", "SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITFIELD_RO");
        Add(allKeys, "MGET");
        Add(new RedisCommandSpec(RedisCommandKind.Data, 1, -1, 2), "MSET", "MSETNX");
        Add(twoKeys, "LCS");
        // Keys and expiry. COPY is checked for its DB option by the policy.
        Add(allKeys, "EXISTS", "DEL", "UNLINK", "TOUCH");
        Add(oneKey, "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "EXPIRETIME", "PEXPIRETIME", "TTL", "PTTL", "PERSIST", "TYPE");
        Add(twoKeys, "RENAME", "RENAMENX", "COPY");
        // Hashes.
        Add(oneKey, "HGET", "HSET", "HSETNX", "HMGET", "HMSET", "HDEL", "HEXISTS", "HGETALL", "HINCRBY", "HINCRBYFLOAT", "HKEYS",
            "HVALS", "HLEN", "HSTRLEN", "HRANDFIELD", "HSCAN", "HEXPIRE", "HPEXPIRE", "HEXPIREAT", "HPEXPIREAT", "HTTL", "HPTTL",
            "HEXPIRETIME", "HPEXPIRETIME", "HPERSIST", "HGETDEL", "HGETEX", "HSETEX");
        // Lists (the blocking forms are below, never allowed).
        Add(oneKey, "LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP", "LLEN", "LRANGE", "LINDEX", "LSET", "LREM", "LTRIM",
            "LINSERT", "LPOS");
        Add(twoKeys, "LMOVE", "RPOPLPUSH");
        // Sets.
        Add(oneKey, "SADD", "SREM", "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SPOP", "SRANDMEMBER", "SSCAN");
        Add(twoKeys, "SMOVE");
        Add(allKeys, "SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE");
        // Sorted sets.
        Add(oneKey, "ZADD", "ZREM", "ZSCORE", "ZINCRBY", "ZCARD", "ZCOUNT", "ZRANGE", "ZRANGEBYSCORE", "ZREVRANGE",
            "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZRANK", "ZREVRANK", "ZREMRANGEBYSCORE", "ZREMRANGEBYRANK",
            "ZREMRANGEBYLEX", "ZPOPMIN", "ZPOPMAX", "ZMSCORE", "ZLEXCOUNT", "ZRANDMEMBER", "ZSCAN");
        Add(twoKeys, "ZRANGESTORE");
        // HyperLogLog, geo, streams.
        Add(oneKey, "PFADD");
        Add(allKeys, "PFCOUNT", "PFMERGE");
        Add(oneKey, "GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEOSEARCH");
        Add(twoKeys, "GEOSEARCHSTORE");
        Add(oneKey, "XADD", "XLEN", "XRANGE", "XREVRANGE", "XDEL", "XTRIM", "XACK", "XPENDING", "XCLAIM", "XAUTOCLAIM");
        // No keys. SCRIPT is limited to LOAD and EXISTS by the policy: loading runs nothing.
        Add(noKeys, "PING", "ECHO", "TIME", "SCRIPT");
        // Keys by numkeys (the argument after the script or function).
        Add(new RedisCommandSpec(RedisCommandKind.Script, 3, 0, 1), "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO");
        // Connection state, replication, pub/sub, transactions, blocking: these would break the shared connection.
        Add(never, "AUTH", "HELLO", "SELECT", "CLIENT", "REPLCONF", "MONITOR", "SYNC", "PSYNC", "RESET", "QUIT", "READONLY",
            "READWRITE", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
            "PUNSUBSCRIBE", "SUNSUBSCRIBE", "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
            "WAIT", "WAITAOF", "XREAD", "XREADGROUP", "SHUTDOWN", "DEBUG", "SWAPDB", "MOVE", "MIGRATE", "FAILOVER", "REPLICAOF",
            "SLAVEOF", "CLUSTER", "ASKING");
        return specs.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
