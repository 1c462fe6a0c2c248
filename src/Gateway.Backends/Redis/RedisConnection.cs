using System.Globalization;
using System.Net;
using Gateway.Http.Transport;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Backends.Redis;

/// <summary>
/// A target's connection for one identity (user and password): a StackExchange.Redis multiplexer speaking RESP2, in
/// the target's topology (one server, a Cluster routed by slot, or the master Sentinel names), over TLS when
/// configured. It connects and reconnects in the background; while disconnected calls fail at once instead of
/// queueing. Counts the calls using it, so a password rotation can retire it once they drain.
/// </summary>
internal sealed class RedisConnection
{
    private const string PasswordRefused = "AuthenticationFailure: Redis refused the password; check the target's password or passwordFile";

    private readonly RedisTargetOptions _options;
    private readonly string _label;
    private readonly ILogger _logger;
    private ConnectionMultiplexer? _multiplexer;
    private int _inFlight;
    private int _retired;
    private int _closed;
    private const int LostNotLogged = 0;
    private const int LostLogged = 1;
    private const int LostAuthenticationLogged = 2;
    private int _lostLogged;
    // With an ACL user or a password configured, calls wait for proof that every connection is authenticated: the
    // client keeps a connection whose AUTH failed open (as the default user, or refusing everything with NOAUTH),
    // which must never serve a plugin's calls.
    private readonly bool _checksIdentity;
    private int _verified;
    private int _verifying;

    private RedisConnection(RedisTargetOptions options, string? password, string label, ILogger logger)
    {
        _options = options;
        _checksIdentity = options.User is not null || !string.IsNullOrEmpty(password);
        _verified = _checksIdentity ? 0 : 1;
        _label = label;
        _logger = logger;
        FirstAttempt = Task.CompletedTask;
    }

    /// <summary>Completes after the first connection attempt, whether or not it succeeded.</summary>
    public Task FirstAttempt { get; private set; }

    /// <summary>The first endpoint that is not <c>host:port</c>, for the start-up checks; such endpoints are skipped.</summary>
    public string? EndpointProblem { get; private set; }

    public bool IsConnected => Volatile.Read(ref _multiplexer) is { IsConnected: true } && Volatile.Read(ref _verified) == 1;

    /// <summary>Starts connecting in the background.</summary>
    public static RedisConnection Start(RedisTargetOptions options, string? password, string label, ILogger logger, SocketHomes homes)
    {
        var connection = new RedisConnection(options, password, label, logger);
        var configuration = RedisConfiguration.Build(options, password, homes, out string? problem);
        connection.EndpointProblem = problem;
        connection.FirstAttempt = connection.ConnectAsync(configuration);
        return connection;
    }

    /// <summary>Runs one command on database <paramref name="database"/>; null while not connected (the call fails at once).</summary>
    public Task<RedisResult>? ExecuteAsync(int database, string command, object[] arguments)
    {
        if (Volatile.Read(ref _multiplexer) is not { IsConnected: true } multiplexer)
        {
            return null;
        }

        if (Volatile.Read(ref _verified) == 0)
        {
            // Connected but not (yet) proven to run as the configured user: check in the background, fail this call.
            _ = VerifyIdentityAsync(multiplexer);
            return null;
        }

        return multiplexer.GetDatabase(database).ExecuteAsync(command, arguments, CommandFlags.None);
    }

    /// <summary>
    /// Redis answered a call with NOAUTH: the password is wrong or missing. Logged once (the target's name, never the
    /// secret); calls fail at once until a check proves the connection authenticated again.
    /// </summary>
    public void OnAuthenticationRefused()
    {
        Volatile.Write(ref _verified, 0);
        LogLost(PasswordRefused);
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
            CloseOnce();
        }
    }

    /// <summary>No new calls; closed when the last in-flight call releases it.</summary>
    public void Retire()
    {
        // Interlocked for the full fence: the in-flight read below must not move before this write.
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _inFlight) == 0)
        {
            CloseOnce();
        }
    }

    private void CloseOnce()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0 && Interlocked.Exchange(ref _multiplexer, null) is { } multiplexer)
        {
            _ = multiplexer.CloseAsync(allowCommandsToComplete: false).ContinueWith(static (_, m) => ((ConnectionMultiplexer)m!).Dispose(), multiplexer, TaskScheduler.Default);
        }
    }

    private async Task ConnectAsync(ConfigurationOptions configuration)
    {
        ConnectionMultiplexer multiplexer;
        try
        {
            // With AbortOnConnectFail off this returns after the first attempt and keeps reconnecting in the background.
            multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or ArgumentException or IOException or InvalidOperationException)
        {
            // A configuration the client refuses (a sentinel without the service, an unreadable CA file): logged, calls fail.
            LogLost(e.GetType().Name);
            return;
        }

        multiplexer.ConnectionFailed += OnConnectionFailed;
        multiplexer.ConnectionRestored += OnConnectionRestored;
        Volatile.Write(ref _multiplexer, multiplexer);
        if (Volatile.Read(ref _closed) != 0)
        {
            // Retired while connecting: nobody will use it.
            Interlocked.Exchange(ref _multiplexer, null)?.Dispose();
            return;
        }

        if (!multiplexer.IsConnected)
        {
            if (await NotConnectedCauseAsync(multiplexer).ConfigureAwait(false) is { } cause)
            {
                LogLost(cause);
            }
        }
        else
        {
            await VerifyIdentityAsync(multiplexer).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Why the first attempt failed, asked of the client: a refused password says so. Null when it has connected
    /// meanwhile.
    /// </summary>
    private static async Task<string?> NotConnectedCauseAsync(ConnectionMultiplexer multiplexer)
    {
        try
        {
            await multiplexer.GetDatabase().PingAsync().ConfigureAwait(false);
            return null;
        }
        catch (RedisConnectionException e) when (e.FailureType == ConnectionFailureType.AuthenticationFailure
            || e.InnerException is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure })
        {
            return PasswordRefused;
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException or TimeoutException)
        {
            return "not connected";
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (_checksIdentity)
        {
            Volatile.Write(ref _verified, 0);
        }

        // The failure type only: the client's message may carry connection details; a secret never reaches a log.
        LogLost(e.FailureType.ToString());
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (Volatile.Read(ref _multiplexer) is { } multiplexer)
        {
            _ = VerifyIdentityAsync(multiplexer);
        }
    }

    /// <summary>
    /// Every connected server must answer ACL WHOAMI with the configured user (without a user: answer PING rather
    /// than NOAUTH) before calls are let through.
    /// </summary>
    private async Task VerifyIdentityAsync(ConnectionMultiplexer multiplexer)
    {
        if (!_checksIdentity)
        {
            Volatile.Write(ref _verified, 1);
            MarkRestored();
            return;
        }

        string? user = _options.User;

        if (Interlocked.Exchange(ref _verifying, 1) == 1)
        {
            return;
        }

        try
        {
            bool verified = true;
            foreach (var endpoint in multiplexer.GetEndPoints())
            {
                var server = multiplexer.GetServer(endpoint);
                if (!server.IsConnected)
                {
                    continue;
                }

                if (user is null)
                {
                    // Throws NOAUTH when the password was refused.
                    await server.ExecuteAsync("PING").ConfigureAwait(false);
                    continue;
                }

                var whoami = await server.ExecuteAsync("ACL", "WHOAMI").ConfigureAwait(false);
                verified &= whoami.ToString() == user;
            }

            Volatile.Write(ref _verified, verified ? 1 : 0);
            if (verified)
            {
                MarkRestored();
            }
            else
            {
                LogLost("AuthenticationFailure: the connection does not run as the configured ACL user");
            }
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
            Volatile.Write(ref _verified, 0);
            LogLost(e is RedisServerException
                ? user is null ? PasswordRefused : "AuthenticationFailure: ACL WHOAMI refused"
                : e.GetType().Name);
        }
        finally
        {
            Volatile.Write(ref _verifying, 0);
        }
    }

    private void MarkRestored()
    {
        if (Interlocked.Exchange(ref _lostLogged, LostNotLogged) != LostNotLogged)
        {
            BackendLog.RedisReconnected(_logger, _label);
        }
    }

    /// <summary>
    /// Once per outage, with the target's name. A refused password or ACL identity (AuthenticationFailure) is logged
    /// even after a plainer cause was: under load the first attempt can fail for want of time before Redis ever says
    /// why, and the operator must still learn that the secret is wrong.
    /// </summary>
    private void LogLost(string cause)
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            return;
        }

        bool logs = cause.StartsWith("AuthenticationFailure", StringComparison.Ordinal)
            ? Interlocked.Exchange(ref _lostLogged, LostAuthenticationLogged) != LostAuthenticationLogged
            : Interlocked.CompareExchange(ref _lostLogged, LostLogged, LostNotLogged) == LostNotLogged;
        if (logs)
        {
            BackendLog.RedisUnreachable(_logger, _label, cause);
        }
    }

    /// <summary><c>host:port</c>, <c>[v6]:port</c> or <c>v4:port</c>, read as config endpoints are.</summary>
    internal static bool TryParseEndpoint(string text, out EndPoint endpoint)
    {
        if (!HostPort.TryParse(text, out var hostPort))
        {
            endpoint = null!;
            return false;
        }
        endpoint = hostPort.ToEndPoint();
        return true;
    }
}
