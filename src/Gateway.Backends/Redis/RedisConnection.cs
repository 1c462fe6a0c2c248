using StackExchange.Redis;

namespace Gateway.Backends;

/// <summary>
/// One multiplexer of a target plus a count of the calls using it. When the password rotates the
/// target swaps in a new one and retires this one, which is disposed once its in-flight calls drain,
/// so no call is dropped by a rotation.
/// </summary>
internal sealed class RedisConnection
{
    private int _inFlight;
    private int _retired;
    private int _disposed;

    private RedisConnection(Task<ConnectionMultiplexer> multiplexer) => Multiplexer = multiplexer;

    /// <summary>Completes after the first connection attempt; with abortConnect=false it never fails for an unreachable server and reconnects by itself.</summary>
    public Task<ConnectionMultiplexer> Multiplexer { get; }

    public static RedisConnection Start(RedisTargetOptions options, string? password)
    {
        try
        {
            return new RedisConnection(ConnectionMultiplexer.ConnectAsync(Configure(options, password)));
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            // An unparsable endpoint: every call fails, and the start-up checks report it with its key path.
            return new RedisConnection(Task.FromException<ConnectionMultiplexer>(ex));
        }
    }

    private static ConfigurationOptions Configure(RedisTargetOptions options, string? password)
    {
        var configuration = new ConfigurationOptions
        {
            // ABI §10.3: the Higress wrappers only understand RESP2, so never negotiate RESP3.
            Protocol = RedisProtocol.Resp2,
            AbortOnConnectFail = false,
            // Fail calls at once while disconnected instead of queueing them past the plugin's timeout.
            BacklogPolicy = BacklogPolicy.FailFast,
            ConnectTimeout = options.ConnectTimeoutMs,
            ConnectRetry = 1,
            ReconnectRetryPolicy = new LinearRetry(Math.Max(100, Math.Min(options.ConnectTimeoutMs, 1000))),
            // Our own timer enforces the per-call timeout (RedisTarget); this only bounds orphaned calls.
            AsyncTimeout = Math.Max(1000, options.TimeoutMs * 4),
            // Command policy is ours (RespCommand); the library must not refuse e.g. INFO or KEYS on its own.
            AllowAdmin = true,
            User = options.User,
            Password = password,
            DefaultDatabase = options.Database,
            ClientName = "gateway",
        };
        foreach (var endpoint in options.Endpoints)
        {
            configuration.EndPoints.Add(endpoint);
        }

        return configuration;
    }

    public bool TryAcquire()
    {
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _retired) != 0)
        {
            Release();
            return false;
        }

        return true;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _retired) != 0)
        {
            DisposeOnce();
        }
    }

    /// <summary>No new calls; disposed when the last in-flight call releases it.</summary>
    public void Retire()
    {
        // Interlocked for the full fence: the in-flight read below must not move before this write.
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _inFlight) == 0)
        {
            DisposeOnce();
        }
    }

    private void DisposeOnce()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _ = DisposeMultiplexerAsync();
        }
    }

    private async Task DisposeMultiplexerAsync()
    {
        try
        {
            var multiplexer = await Multiplexer.ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Disposal of a connection nobody uses any more has no one to report to.
        }
    }
}
