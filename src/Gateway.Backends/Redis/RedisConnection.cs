using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends;

/// <summary>
/// A target's connection for one password: the live <see cref="RespConnection"/>, re-established in the
/// background whenever it closes (calls fail fast meanwhile), and a count of the calls using it. When the
/// password rotates the target swaps in a new one and retires this one, which closes once its in-flight calls
/// drain, so no call is dropped by a rotation.
/// </summary>
internal sealed class RedisConnection
{
    private readonly RedisTargetOptions _options;
    private readonly string? _password;
    private readonly ILogger _logger;
    private readonly string _label;
    private readonly EndPoint[] _endpoints;
    private readonly TimeSpan _sweepPeriod;
    private readonly TimeSpan _stallLimit;
    private readonly TimeSpan _retryInterval;
    private RespConnection? _live;
    private int _inFlight;
    private int _retired;
    private int _closed;
    private bool _lostLogged;

    private RedisConnection(RedisTargetOptions options, string? password, string label, ILogger logger, EndPoint[] endpoints)
    {
        _options = options;
        _label = label;
        _password = password;
        _logger = logger;
        _endpoints = endpoints;
        // Deadlines are checked this often: a small fraction of the timeout, at most every 10 ms.
        _sweepPeriod = TimeSpan.FromMilliseconds(Math.Clamp(options.TimeoutMs / 8, 1, 10));
        // Calls time out long before this; a connection that answers nothing for this long is presumed dead.
        _stallLimit = TimeSpan.FromMilliseconds(Math.Max(1000, options.TimeoutMs * 4));
        _retryInterval = TimeSpan.FromMilliseconds(Math.Max(100, Math.Min(options.ConnectTimeoutMs, 1000)));
        FirstAttempt = Task.CompletedTask;
    }

    /// <summary>Completes after the first connection attempt, whether or not it succeeded.</summary>
    public Task FirstAttempt { get; private set; }

    /// <summary>The first endpoint that is not <c>host:port</c>, for the start-up checks; such endpoints are skipped.</summary>
    public string? EndpointProblem { get; private set; }

    /// <summary>Starts connecting in the background.</summary>
    public static RedisConnection Start(RedisTargetOptions options, string? password, string label, ILogger logger)
    {
        var endpoints = new List<EndPoint>();
        string? problem = null;
        foreach (string text in options.Endpoints)
        {
            if (TryParseEndpoint(text, out var endpoint))
            {
                endpoints.Add(endpoint);
            }
            else
            {
                problem ??= $"\"{text}\" is not host:port";
            }
        }
        var connection = new RedisConnection(options, password, label, logger, [.. endpoints]) { EndpointProblem = problem };
        connection.FirstAttempt = connection.FirstConnectAsync();
        return connection;
    }

    public bool IsConnected => Volatile.Read(ref _live) is not null;

    /// <summary>Sends <paramref name="command"/> on the live connection; without one the call fails at once.</summary>
    public Task<RespOutcome> CallAsync(ReadOnlySpan<byte> command, long deadline) =>
        Volatile.Read(ref _live) is { } live
            ? live.CallAsync(command, deadline)
            : Task.FromResult(new RespOutcome(RespOutcomeKind.Closed, []));

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
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            Interlocked.Exchange(ref _live, null)?.Close();
        }
    }

    private async Task FirstConnectAsync()
    {
        if (!await TryConnectAsync().ConfigureAwait(false))
        {
            _ = ReconnectAsync();
        }
    }

    /// <summary>Retries every retry interval until connected or closed.</summary>
    private async Task ReconnectAsync()
    {
        while (Volatile.Read(ref _closed) == 0)
        {
            await Task.Delay(_retryInterval).ConfigureAwait(false);
            if (await TryConnectAsync().ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>One attempt over the endpoints in order; the first that connects and completes the handshake serves.</summary>
    private async Task<bool> TryConnectAsync()
    {
        string? failure = null;
        foreach (var endpoint in _endpoints)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(_options.ConnectTimeoutMs));
            try
            {
                var live = await RespConnection.OpenAsync(endpoint, _options, _password, _sweepPeriod, _stallLimit, timeout.Token).ConfigureAwait(false);
                Volatile.Write(ref _live, live);
                if (Volatile.Read(ref _closed) != 0)
                {
                    // Retired while connecting: nobody will use it.
                    Interlocked.Exchange(ref _live, null)?.Close();
                    return true;
                }
                if (_lostLogged)
                {
                    _lostLogged = false;
                    BackendLog.RedisReconnected(_logger, _label);
                }
                _ = WatchAsync(live);
                return true;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                failure = e is OperationCanceledException ? "connect timeout" : e.Message;
            }
        }
        if (!_lostLogged)
        {
            _lostLogged = true;
            BackendLog.RedisUnreachable(_logger, _label, failure ?? "no endpoint");
        }
        return false;
    }

    /// <summary>When the live connection closes, calls fail fast until a new one is up.</summary>
    private async Task WatchAsync(RespConnection live)
    {
        await live.Closed.ConfigureAwait(false);
        Interlocked.CompareExchange(ref _live, null, live);
        if (Volatile.Read(ref _closed) == 0)
        {
            if (!_lostLogged)
            {
                _lostLogged = true;
                BackendLog.RedisUnreachable(_logger, _label, "connection lost");
            }
            await ReconnectAsync().ConfigureAwait(false);
        }
    }

    /// <summary><c>host:port</c>, <c>[v6]:port</c> or <c>v4:port</c>.</summary>
    private static bool TryParseEndpoint(string text, out EndPoint endpoint)
    {
        if (IPEndPoint.TryParse(text, out var address) && address.Port != 0)
        {
            endpoint = address;
            return true;
        }
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            endpoint = null!;
            return false;
        }
        endpoint = new DnsEndPoint(text[..colon], port);
        return true;
    }
}
