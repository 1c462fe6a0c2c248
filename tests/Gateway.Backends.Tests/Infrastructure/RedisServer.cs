using Gateway.Testing.Redis;

namespace Gateway.Backends.Tests;

/// <summary>
/// A test collection's shared redis-server: a <see cref="RedisProcess"/> with DEBUG allowed, started once for the
/// collection, which its tests may stop and start again on the same port.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private RedisProcess? _process;

    private RedisProcess Process => _process ?? throw new InvalidOperationException("the collection's redis-server is not started");

    public int Port => Process.Port;

    public string Endpoint => Process.Endpoint;

    public async ValueTask InitializeAsync() => _process = await RedisProcess.StartAsync("--enable-debug-command", "yes");

    /// <summary>Starts the server again after <see cref="StopAsync"/>, on the same port.</summary>
    public Task StartAsync() => Process.RestartAsync();

    public Task StopAsync() => Process.StopAsync();

    /// <summary>A fresh admin connection, authenticated with <paramref name="password"/> when given.</summary>
    public async Task<RawRedisClient> ConnectAsync(string? password = null)
    {
        var client = await RawRedisClient.ConnectAsync(Port);
        if (password is not null)
        {
            await client.SendAsync("AUTH", password);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
