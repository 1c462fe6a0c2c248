using System.Text;
using Gateway.Admin;
using Gateway.Backends;
using Gateway.Configuration;
using Gateway.Http.Transport;
using Gateway.Plugins.Metrics;
using Gateway.Proxy;
using Gateway.Proxy.Metrics;
using Gateway.Proxy.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

/// <summary>
/// The running gateway: starts backends, plugins, listeners and the admin port; applies valid config
/// changes without a restart; drains on SIGTERM (readiness off at once, listeners closed after the
/// configured delay, in-flight requests finished up to the drain timeout).
/// </summary>
public sealed class GatewayService : IHostedService, IAdminEndpoints, IAsyncDisposable
{
    private readonly GatewayStartup _startup;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly object _reloadGate = new();
    // The data path's counters outlive every snapshot: a reload must not reset them.
    private readonly ProxyCounters _counters = new();
    private readonly PluginMetrics _pluginMetrics = new();
    private readonly BackendMetrics _backendMetrics = new();
    private GatewayConfig _config;
    private BackendRegistry? _backends;
    private ProxyServer? _server;
    // The workers' loops, made first; the server owns them once it is made, until then this service does.
    private WorkerLoop[]? _workers;
    // The backends' Redis connections live on the workers' loops: made before the backends, owned by the server.
    private SocketHomes? _homes;
    private AdminServer? _admin;
    private Proxy.Logging.AccessLog? _accessLog;
    private ConfigWatcher? _watcher;
    private volatile string? _notReady = "starting";
    private long _reloadsApplied;
    private long _reloadsFailed;
    private bool _disposed;

    public GatewayService(GatewayStartup startup, ILoggerFactory loggers)
    {
        _startup = startup;
        _loggers = loggers;
        _logger = loggers.CreateLogger("Gateway");
        _config = startup.Loaded.Config!;
    }

    /// <summary>
    /// Starts the gateway; a start that fails lets go of what it made before its error goes on (see
    /// <see cref="DisposeAsync"/>), whether or not the caller disposes the service after.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StartPartsAsync(cancellationToken);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartPartsAsync(CancellationToken cancellationToken)
    {
        long started = Environment.TickCount64;
        WorkerLoop[] workers = _workers = ProxyServer.StartWorkers(_config.Workers, _loggers);
        _homes = new SocketHomes(workers);
        _backends = RuntimeBuilder.Backends(_config, _loggers, _backendMetrics, _homes);
        var problems = new List<string>(await _backends.CheckAsync(cancellationToken));
        ProxySnapshot snapshot = RuntimeBuilder.Snapshot(_config, _backends, _loggers, _counters, out var pluginErrors, pluginMetrics: _pluginMetrics);
        problems.AddRange(pluginErrors);
        if (problems.Count > 0)
        {
            snapshot.Plugins?.Retire();
            foreach (string p in problems)
            {
                GatewayLog.StartupProblem(_logger, p);
            }
            throw new GatewayStartException(problems);
        }
        _server = new ProxyServer(snapshot, workers, _loggers);
        try
        {
            _accessLog = RuntimeBuilder.AccessLog(_config, _loggers);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StartupProblem($"accessLog.file: {e.Message}");
        }
        _server.AccessLog = _accessLog;
        try
        {
            _server.Start(RuntimeBuilder.Listeners(_config));
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException)
        {
            // A port in use or an address not on this host: the message names the listener.
            throw StartupProblem(e.Message);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            // A certificate that changed between validation and start.
            throw StartupProblem($"listeners: {e.Message}");
        }
        _admin = new AdminServer(this, _loggers.CreateLogger("Gateway.Admin"));
        try
        {
            _admin.Start(_config.Admin.Address, _config.Admin.Port, _config.Admin.MaxConnections);
        }
        catch (IOException e)
        {
            throw StartupProblem(e.Message);
        }
        AdminServer admin = _admin;
        _server.EdgeMetrics.AdminRefused = () => admin.RefusedConnections;
        _watcher = new ConfigWatcher(_startup.Loaded.ReferencedFiles, Reload);
        _notReady = null;
        GatewayLog.Started(_logger, _server.Workers.Count, Environment.TickCount64 - started);
    }

    private GatewayStartException StartupProblem(string problem)
    {
        GatewayLog.StartupProblem(_logger, problem);
        return new GatewayStartException([problem]);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _notReady = "draining";
        _watcher?.Dispose();
        if (_server is null)
        {
            return;
        }
        var shutdown = _config.Shutdown;
        GatewayLog.Draining(_logger, _server.OpenConnections, shutdown.DrainTimeoutMs);
        long left = await _server.DrainAsync(TimeSpan.FromMilliseconds(shutdown.ListenerCloseDelayMs), TimeSpan.FromMilliseconds(shutdown.DrainTimeoutMs));
        GatewayLog.Drained(_logger, left);
    }

    /// <summary>Applies a changed config if it is valid; otherwise logs every problem and keeps the old one.</summary>
    private void Reload()
    {
        lock (_reloadGate)
        {
            if (_server is null || _backends is null)
            {
                return;
            }
            ConfigLoadResult loaded = ConfigLoader.Load(_startup.ConfigPath, EnvironmentSnapshot.Current());
            // Watch what the new config names even when it is refused: a secret mounted later triggers a retry.
            _watcher?.Update(loaded.ReferencedFiles);
            if (loaded.Config is not { } config)
            {
                Refuse(loaded.Errors);
                return;
            }
            // Backends are rebuilt only when their config changed, so pools and breakers survive route edits.
            bool backendsChanged = !ConfigEquality.Maps(_config.Redis, config.Redis) || !ConfigEquality.Maps(_config.Databases, config.Databases)
                || !SamePluginRedisAccess(_config, config);
            BackendRegistry backends = backendsChanged ? RuntimeBuilder.Backends(config, _loggers, _backendMetrics, _homes) : _backends;
            // Plugins whose module bytes and options are unchanged keep their VMs; their host calls reach the new
            // backends and clusters.
            LoadedPlugins? previous = _server.Snapshot.Plugins;
            ProxySnapshot snapshot = RuntimeBuilder.Snapshot(config, backends, _loggers, _counters, out var pluginErrors, previous, _pluginMetrics);
            if (pluginErrors.Count > 0)
            {
                snapshot.Plugins?.Retire();
                if (backendsChanged)
                {
                    _ = backends.DisposeAsync().AsTask();
                }
                Refuse(pluginErrors);
                return;
            }
            Task moved = _server.Apply(snapshot);
            if (previous is not null)
            {
                _ = RetireAsync(previous, moved);
            }
            if (backendsChanged)
            {
                _ = RetireAsync(_backends);
                _backends = backends;
                _ = WarmAsync(backends);
            }
            _config = config;
            Interlocked.Increment(ref _reloadsApplied);
            GatewayLog.ReloadApplied(_logger, config.Routes.Count, config.Clusters.Count, config.Plugins.Count, snapshot.Plugins?.Runtime.GroupsBuilt ?? 0);
        }
    }

    /// <summary>
    /// The replaced plugin generation goes once every worker has moved to the new snapshot (none can take it up
    /// again); it is disposed when the last request still running on it ends.
    /// </summary>
    private async Task RetireAsync(LoadedPlugins retired, Task moved)
    {
        try
        {
            await moved;
        }
        catch (Exception e)
        {
            GatewayLog.WorkerMoveFailed(_logger, e);
        }
        retired.Retire();
    }

    /// <summary>Plugins' Redis identities and policies live in the backends, so a change there rebuilds them too.</summary>
    private static bool SamePluginRedisAccess(GatewayConfig a, GatewayConfig b)
    {
        foreach (var (name, plugin) in a.Plugins)
        {
            if (!b.Plugins.TryGetValue(name, out var other) ? plugin.Redis.Count > 0 : !plugin.Redis.Equals(other.Redis))
            {
                return false;
            }
        }
        foreach (var (name, plugin) in b.Plugins)
        {
            if (!a.Plugins.ContainsKey(name) && plugin.Redis.Count > 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Calls already dispatched to the previous backends finish there: they are bounded by their own timeouts,
    /// so the old clients are closed once the longest of those has surely passed.
    /// </summary>
    private static async Task RetireAsync(BackendRegistry retired)
    {
        await Task.Delay(TimeSpan.FromSeconds(30));
        await retired.DisposeAsync();
    }

    /// <summary>
    /// Rebuilt databases open their pools' minimum as at start, while the new config already serves; what the database
    /// refuses is logged by the backends and opened on demand, and nothing else may escape unlogged.
    /// </summary>
    private async Task WarmAsync(BackendRegistry backends)
    {
        try
        {
            await backends.WarmAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            GatewayLog.DatabaseWarmUpFailed(_logger, e);
        }
    }

    private void Refuse(IReadOnlyList<string> problems)
    {
        Interlocked.Increment(ref _reloadsFailed);
        GatewayLog.ReloadRefused(_logger, problems.Count, string.Join("; ", problems));
    }

    public string? NotReadyReason => _notReady;

    public void WriteMetrics(StringBuilder output)
    {
        _counters.WritePrometheus(output);
        _server?.EdgeMetrics.WritePrometheus(output);
        _accessLog?.WritePrometheus(output);
        _server?.Snapshot.Plugins?.Runtime.WritePrometheus(output);
        _backends?.WritePrometheus(output);
        output.Append("# HELP gateway_config_reloads_total Config reloads, by result.\n# TYPE gateway_config_reloads_total counter\n");
        output.Append("gateway_config_reloads_total{result=\"applied\"} ").Append(Interlocked.Read(ref _reloadsApplied)).Append('\n');
        output.Append("gateway_config_reloads_total{result=\"refused\"} ").Append(Interlocked.Read(ref _reloadsFailed)).Append('\n');
        RuntimeMetrics.WritePrometheus(output);
    }

    public string RedactedConfigJson() => ConfigRedaction.ToRedactedJson(_config);

    /// <summary>
    /// Lets go of what the service made, the newest first; after a failed start, what that start got to. Runs once: a
    /// failed start runs it, and the host disposes the service again after.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _watcher?.Dispose();
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        _server?.Snapshot.Plugins?.Retire();
        if (_accessLog is not null)
        {
            await _accessLog.DisposeAsync();
        }
        if (_backends is not null)
        {
            await _backends.DisposeAsync();
        }
        if (_server is null)
        {
            // No server took the loops over (the start failed before it): they go after the backends living on them.
            foreach (WorkerLoop loop in _workers ?? [])
            {
                loop.Dispose();
            }
        }
    }
}
