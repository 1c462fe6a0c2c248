using System.Net;
using Gateway.Backends;
using Gateway.Configuration;
using Gateway.Http.Transport;
using Gateway.Plugins.Metrics;
using Gateway.Plugins.Runtime;
using Gateway.Proxy;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Logging;
using Gateway.Proxy.Metrics;
using Gateway.Proxy.Routing;
using Gateway.Proxy.Server;
using Gateway.Proxy.Tls;
using Gateway.Proxy.Upstream;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

/// <summary>
/// Turns a validated <see cref="GatewayConfig"/> into the options each layer owns (one options record per
/// layer) and builds what runs: backends, the plugin runtime, and the proxy snapshot. Sections whose shape is the
/// layer's own (limits, paths, plugin limits, TLS to Redis, circuit breakers, statements) are bound as they are and
/// pass through; the rest are mapped here, with the layer's options owning every default.
/// </summary>
public static class RuntimeBuilder
{
    public static IReadOnlyList<ListenerOptions> Listeners(GatewayConfig config)
    {
        var list = new ListenerOptions[config.Listeners.Count];
        for (int i = 0; i < list.Length; i++)
        {
            var l = config.Listeners[i];
            list[i] = new ListenerOptions { Name = l.Name, Address = l.Address, Port = l.Port, MaxConnections = l.MaxConnections, Tls = Tls(l.Tls) };
        }
        return list;
    }

    /// <summary>A listener's TLS options; validation has checked the version and the files.</summary>
    public static ListenerTlsOptions? Tls(ListenerTlsConfig? tls)
    {
        if (tls is null)
        {
            return null;
        }
        var certificates = new SniCertificateOptions[tls.Certificates.Count];
        for (int i = 0; i < certificates.Length; i++)
        {
            var c = tls.Certificates[i];
            certificates[i] = new SniCertificateOptions { ServerNames = c.ServerNames, CertFile = c.CertFile, KeyFile = c.KeyFile };
        }
        return new ListenerTlsOptions
        {
            CertFile = tls.CertFile,
            KeyFile = tls.KeyFile,
            Certificates = certificates,
            ClientCaFile = tls.ClientCaFile,
            // Validation refuses another version first; reaching the throw is a host bug.
            Protocols = TlsVersions.FromMinimum(tls.MinVersion) ?? throw new InvalidOperationException($"tls.minVersion '{tls.MinVersion}' is not known"),
        };
    }

    /// <summary>The access log writer: a file opened for appending, or stdout.</summary>
    public static AccessLog AccessLog(GatewayConfig config, ILoggerFactory loggers)
    {
        AccessLogConfig c = config.AccessLog;
        Stream output = c.File is { } file
            ? new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous)
            : Console.OpenStandardOutput();
        return new AccessLog(output, ownsOutput: c.File is not null, c.QueueCapacity, loggers.CreateLogger("Gateway.AccessLog"));
    }

    /// <summary>The Redis targets and databases of <paramref name="config"/>, counting into the process's <paramref name="metrics"/>.</summary>
    public static BackendRegistry Backends(GatewayConfig config, ILoggerFactory loggers, BackendMetrics? metrics = null, SocketHomes? homes = null) =>
        BackendRegistry.Create(RedisTargets(config), Databases(config), loggers, metrics, homes);

    public static List<RedisTargetOptions> RedisTargets(GatewayConfig config)
    {
        var redis = new List<RedisTargetOptions>();
        foreach (var (name, r) in config.Redis)
        {
            redis.Add(new RedisTargetOptions
            {
                Name = name,
                Topology = r.Topology,
                Endpoints = r.Endpoints,
                SentinelService = r.SentinelService,
                Tls = r.Tls,
                AllowedDatabases = r.AllowedDatabases,
                User = r.User,
                Password = r.Password,
                PasswordFile = r.PasswordFile,
                Database = r.Database,
                Aliases = r.Aliases,
                TimeoutMs = r.TimeoutMs,
                MaxTimeoutMs = r.MaxTimeoutMs ?? Math.Max(r.TimeoutMs, RedisTargetOptions.DefaultMaxTimeoutMs),
                ConnectTimeoutMs = r.ConnectTimeoutMs,
                Plugins = PluginRedisAccessOf(config, name),
                CircuitBreaker = r.CircuitBreaker,
            });
        }
        return redis;
    }

    public static List<DatabaseOptions> Databases(GatewayConfig config)
    {
        var databases = new List<DatabaseOptions>();
        foreach (var (name, d) in config.Databases)
        {
            databases.Add(new DatabaseOptions
            {
                Name = name,
                Provider = d.Provider,
                ConnectionString = d.ConnectionString,
                Password = d.Password,
                PasswordFile = d.PasswordFile,
                TimeoutMs = d.TimeoutMs,
                MaxPoolSize = d.MaxPoolSize,
                MinPoolSize = d.MinPoolSize ?? DatabaseOptions.DefaultMinPoolSize,
                MaxConnectionsPerPlugin = d.MaxConnectionsPerPlugin ?? 0,
                CaFile = d.CaFile,
                Statements = d.Statements,
                CircuitBreaker = d.CircuitBreaker,
            });
        }
        return databases;
    }

    /// <summary>What each plugin configured for one Redis target, by plugin name.</summary>
    private static Dictionary<string, RedisPluginAccessOptions> PluginRedisAccessOf(GatewayConfig config, string target)
    {
        var access = new Dictionary<string, RedisPluginAccessOptions>(StringComparer.Ordinal);
        foreach (var (plugin, p) in config.Plugins)
        {
            if (p.Redis.TryGetValue(target, out var entry))
            {
                access[plugin] = new RedisPluginAccessOptions
                {
                    User = entry.User,
                    Password = entry.Password,
                    PasswordFile = entry.PasswordFile,
                    Scripts = entry.Scripts,
                    AllowCommands = entry.AllowCommands,
                };
            }
        }
        return access;
    }

    public static IReadOnlyList<PluginOptions> Plugins(GatewayConfig config)
    {
        var list = new List<PluginOptions>();
        foreach (var (name, p) in config.Plugins)
        {
            list.Add(new PluginOptions
            {
                Name = name,
                ModulePath = p.ModulePath,
                Configuration = p.Configuration,
                VmConfiguration = p.VmConfiguration,
                RootId = p.RootId,
                VmId = p.VmId,
                FailurePolicy = p.FailurePolicy,
                Singleton = p.Singleton,
                Environment = p.Environment,
                Limits = p.Limits,
            });
        }
        return list;
    }

    public static IReadOnlyList<ClusterOptions> Clusters(GatewayConfig config, ILoggerFactory? loggers = null)
    {
        var list = new List<ClusterOptions>();
        foreach (var (name, c) in config.Clusters)
        {
            var endpoints = new DnsEndPoint[c.Endpoints.Count];
            for (int i = 0; i < endpoints.Length; i++)
            {
                if (!HostPort.TryParse(c.Endpoints[i], out var endpoint))
                {
                    // Validation refuses such a config first; reaching here is a host bug.
                    throw new InvalidOperationException($"clusters.{name}.endpoints[{i}] is not host:port");
                }
                endpoints[i] = new DnsEndPoint(endpoint.Host, endpoint.Port);
            }
            list.Add(new ClusterOptions
            {
                Name = name,
                Endpoints = endpoints,
                LoadBalancing = c.LoadBalancing,
                ConnectTimeoutMs = c.ConnectTimeoutMs,
                RequestTimeoutMs = c.RequestTimeoutMs,
                MaxConnectionsPerWorker = c.MaxConnectionsPerWorker,
                EjectionConsecutiveFailures = c.Ejection.ConsecutiveFailures,
                EjectionCooldownMs = c.Ejection.CooldownMs,
                PooledIdleTimeoutMs = c.PooledIdleTimeoutMs,
                Tls = c.Tls is { Enabled: true } tls
                    ? new UpstreamTls(name, new UpstreamTlsOptions { CaFile = tls.CaFile, ServerName = tls.ServerName, CertFile = tls.CertFile, KeyFile = tls.KeyFile },
                        (loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Gateway.Proxy"))
                    : null,
            });
        }
        return list;
    }

    public static IReadOnlyList<RouteOptions> Routes(GatewayConfig config)
    {
        var list = new RouteOptions[config.Routes.Count];
        for (int i = 0; i < list.Length; i++)
        {
            var r = config.Routes[i];
            list[i] = new RouteOptions
            {
                Name = r.Name,
                Host = r.Match.Host,
                PathPrefix = r.Match.PathPrefix,
                Path = r.Match.Path,
                CaseSensitive = r.Match.CaseSensitive,
                Cluster = r.Cluster,
                Plugins = r.Plugins,
                Upgrades = r.Upgrades,
            };
        }
        return list;
    }

    /// <summary>The first load of the plugins; null, with the reason, when the WebAssembly runtime cannot be loaded at all.</summary>
    private static PluginRuntime? TryLoad(IReadOnlyList<PluginOptions> plugins, PluginServices services, out IReadOnlyList<string> errors)
    {
        try
        {
            return PluginRuntime.Load(plugins, services, out errors);
        }
        catch (DllNotFoundException)
        {
            // A copied binary without its library: a deployment fault to name, not an exception to crash on.
            errors = ["plugins: the WebAssembly runtime library (libwasmtime.so) was not found beside the gateway binary; it ships with it (artifacts/bin, the image)"];
            return null;
        }
    }

    /// <summary>
    /// Builds the proxy snapshot. Its plugins are loaded (every module compiled and probed), or, given the running
    /// generation <paramref name="previous"/>, reloaded from it: plugins whose module bytes and options are unchanged
    /// keep their VMs and state. The snapshot counts into <paramref name="counters"/> and its plugins into
    /// <paramref name="pluginMetrics"/>, which live for the process.
    /// </summary>
    public static ProxySnapshot Snapshot(
        GatewayConfig config, BackendRegistry backends, ILoggerFactory loggers, ProxyCounters counters, out IReadOnlyList<string> errors,
        LoadedPlugins? previous = null, PluginMetrics? pluginMetrics = null)
    {
        IReadOnlyList<ClusterOptions> clusters = Clusters(config, loggers);
        LoadedPlugins? plugins = null;
        errors = [];
        if (config.Plugins.Count > 0)
        {
            // Clusters the reload left unchanged keep their callout connections: the new client shares them.
            var httpCalls = new ClusterHttpCalls(clusters, previous?.HttpCalls);
            var services = new PluginServices
            {
                LoggerFactory = loggers,
                HttpCalls = httpCalls,
                Backends = backends,
                MessageLimits = config.Limits,
                ModuleCacheDirectory = config.ModuleCache.EffectiveDirectory,
                Metrics = pluginMetrics ?? new PluginMetrics(),
            };
            PluginRuntime? runtime = previous is null
                ? TryLoad(Plugins(config), services, out errors)
                : previous.Runtime.Reload(Plugins(config), services, out errors);
            if (runtime is null)
            {
                httpCalls.Dispose();
            }
            else
            {
                // The generation owns the client: its idle connections close when the generation is retired and let go,
                // but for those of clusters a later generation took over.
                plugins = new LoadedPlugins(runtime, httpCalls);
            }
        }
        return new ProxySnapshot(config.Limits, clusters, Routes(config), plugins, counters, config.Paths)
        {
            AccessLogEnabled = config.AccessLog.Enabled,
        };
    }
}
