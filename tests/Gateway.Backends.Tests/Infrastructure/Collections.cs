namespace Gateway.Backends.Tests;

/// <summary>Tests sharing one healthy Redis server; they leave its state as they found it.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServer>
{
    public const string Name = "redis";
}

/// <summary>Tests that stop, restart or re-password their Redis server: a server of their own.</summary>
[CollectionDefinition(Name)]
public sealed class RedisFaultCollection : ICollectionFixture<RedisServer>
{
    public const string Name = "redis-faults";
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

[CollectionDefinition(Name)]
public sealed class PostgresFaultCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres-faults";
}

[CollectionDefinition(Name)]
public sealed class MariaDbCollection : ICollectionFixture<MariaDbFixture>
{
    public const string Name = "mariadb";
}

[CollectionDefinition(Name)]
public sealed class MariaDbFaultCollection : ICollectionFixture<MariaDbFixture>
{
    public const string Name = "mariadb-faults";
}
