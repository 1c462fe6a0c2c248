using Gateway.Http.Transport;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends.Redis;

/// <summary>
/// The connection of one ACL identity (user and password) on a target: the target's own, or a plugin's. The password
/// follows its mounted file: when the file changes a new connection is started with it and the old one closes once
/// its in-flight calls drain, so rotation needs no restart and drops no call. Connections are never shared between
/// identities, so Redis enforces each user's key patterns and command categories for its plugin only.
/// </summary>
internal sealed class RedisIdentity : IAsyncDisposable
{
    /// <summary>How often the password file is re-read; a Kubernetes Secret update takes about a minute to land anyway.</summary>
    private static readonly TimeSpan PasswordPollInterval = TimeSpan.FromSeconds(1);

    private readonly RedisTargetOptions _options;
    private readonly string _label;
    private readonly ILogger _logger;
    private readonly SocketHomes _homes;
    private readonly SecretFile? _passwordFile;
    private readonly Timer? _passwordPoll;
    private RedisConnection _connection;
    private string? _password;
    private int _checkingPassword;
    private Task _passwordCheck = Task.CompletedTask;
    private bool _passwordFileUnreadable;

    /// <param name="options">The target's options with this identity's user.</param>
    /// <param name="label">The target name, with the plugin for a plugin's identity: what log lines name.</param>
    public RedisIdentity(RedisTargetOptions options, string? password, string? passwordFile, string label, ILogger logger, SocketHomes homes)
    {
        _options = options;
        _label = label;
        _logger = logger;
        _homes = homes;
        _password = password;
        if (passwordFile is not null)
        {
            _passwordFile = new SecretFile(passwordFile);
            try
            {
                _password = _passwordFile.Read();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Reported by the start-up checks; the poll picks the file up once it appears.
                _passwordFileUnreadable = true;
            }

            _passwordPoll = new Timer(static state => ((RedisIdentity)state!).OnPasswordPoll(), this, PasswordPollInterval, PasswordPollInterval);
        }

        _connection = RedisConnection.Start(options, _password, label, logger, homes);
    }

    public bool PasswordFileUnreadable => _passwordFile is not null && _passwordFileUnreadable;

    public RedisConnection Current => Volatile.Read(ref _connection);

    public RedisConnection Acquire()
    {
        while (true)
        {
            var connection = Volatile.Read(ref _connection);
            if (connection.TryAcquire())
            {
                return connection;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_passwordPoll is not null)
        {
            await _passwordPoll.DisposeAsync().ConfigureAwait(false);
            // A check still running could swap in a connection after we retire this one.
            await Volatile.Read(ref _passwordCheck).ConfigureAwait(false);
        }

        Volatile.Read(ref _connection).Retire();
    }

    private void OnPasswordPoll()
    {
        // One check at a time: a slow file system must not stack them up.
        if (Interlocked.Exchange(ref _checkingPassword, 1) == 0)
        {
            Volatile.Write(ref _passwordCheck, CheckPasswordFileAsync());
        }
    }

    private async Task CheckPasswordFileAsync()
    {
        try
        {
            var password = await _passwordFile!.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            _passwordFileUnreadable = false;
            if (password == _password)
            {
                return;
            }

            // Calls already on the old connection finish there; it closes when they drain.
            _password = password;
            var previous = Interlocked.Exchange(ref _connection, RedisConnection.Start(_options, password, _label, _logger, _homes));
            previous.Retire();
            BackendLog.RedisPasswordRotated(_logger, _label);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Once per outage, not once per poll; a Secret volume briefly lacks the file while it is swapped.
            if (!_passwordFileUnreadable)
            {
                _passwordFileUnreadable = true;
                BackendLog.PasswordFileUnreadable(_logger, "Redis", _label, ex.GetType().Name);
            }
        }
        finally
        {
            Volatile.Write(ref _checkingPassword, 0);
        }
    }
}
