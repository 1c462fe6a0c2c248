using Gateway.Testing.Sql;

namespace Gateway.Backends.Tests;

/// <summary>One PostgreSQL cluster for a test collection.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await PostgresServer.StartAsync();

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>One MariaDB server for a test collection.</summary>
public sealed class MariaDbFixture : IAsyncLifetime
{
    public MariaDbServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await MariaDbServer.StartAsync();

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
