using System.Net;
using Gateway.Backends;
using Gateway.Http.Paths;
using Gateway.Http.Transport;

namespace Gateway.Configuration;

/// <summary>
/// The checks that need the whole typed snapshot: ranges, references between sections and
/// uniqueness. Every problem is reported; nothing stops at the first.
/// </summary>
internal sealed class ConfigValidator(GatewayConfig config, ConfigErrors errors)
{
    private const int MaxWorkers = 1024;
    private const int WasmPageBytes = 65536;

    public void Validate()
    {
        if (config.Workers is < 0 or > MaxWorkers)
        {
            errors.Add("workers", $"must be between 0 (one per processor) and {MaxWorkers}");
        }

        ValidateListeners();
        ValidateAdmin();
        ValidateLimits();
        ValidateClusters();
        ValidateRoutes();
        ValidatePlugins();
        ValidateRedis();
        ValidateDatabases();
        ValidateAccessLog();
        NotNegative("shutdown.drainTimeoutMs", config.Shutdown.DrainTimeoutMs);
        NotNegative("shutdown.listenerCloseDelayMs", config.Shutdown.ListenerCloseDelayMs);
        if (config.ModuleCache.Directory.Length > 0 && !Path.IsPathFullyQualified(config.ModuleCache.Directory))
        {
            errors.Add("moduleCache.directory", "must be an absolute path");
        }
    }

    private void ValidateListeners()
    {
        if (config.Listeners.Count == 0)
        {
            errors.Add("listeners", "at least one listener is required");
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < config.Listeners.Count; i++)
        {
            var listener = config.Listeners[i];
            var path = ConfigPath.Index("listeners", i);
            if (listener.Name.Length == 0)
            {
                errors.Add($"{path}.name", "must not be empty");
            }
            else if (!names.TryAdd(listener.Name, i))
            {
                errors.Add($"{path}.name", $"\"{listener.Name}\" is already the name of listeners[{names[listener.Name]}]");
            }

            Endpoint(path, listener.Address, listener.Port);
            Positive($"{path}.maxConnections", listener.MaxConnections);
            if (listener.Tls is { } tls)
            {
                new TlsConfigValidator(errors).Validate($"{path}.tls", tls);
            }
            for (var j = 0; j < i; j++)
            {
                if (listener.Port != 0 && Overlaps(config.Listeners[j].Address, config.Listeners[j].Port, listener.Address, listener.Port))
                {
                    errors.Add($"{path}.port", $"{listener.Port} is already bound by listeners[{j}]");
                    break;
                }
            }
        }
    }

    private void ValidateAccessLog()
    {
        var log = config.AccessLog;
        Positive("accessLog.queueCapacity", log.QueueCapacity);
        if (log.File is { } file && (!Path.IsPathFullyQualified(file) || Path.EndsInDirectorySeparator(file)))
        {
            errors.Add("accessLog.file", $"\"{file}\" is not an absolute file path");
        }
        else if (log.File is { } path && !Directory.Exists(Path.GetDirectoryName(path)))
        {
            errors.Add("accessLog.file", $"the folder of \"{path}\" does not exist");
        }
    }

    private void ValidateAdmin()
    {
        var admin = config.Admin;
        Endpoint("admin", admin.Address, admin.Port);
        Positive("admin.maxConnections", admin.MaxConnections);
        for (var i = 0; i < config.Listeners.Count; i++)
        {
            var listener = config.Listeners[i];
            if (admin.Port != 0 && Overlaps(listener.Address, listener.Port, admin.Address, admin.Port))
            {
                errors.Add("admin.port", $"{admin.Port} is already bound by listeners[{i}]");
                break;
            }
        }
    }

    private void Endpoint(string path, string address, int port)
    {
        if (!IPAddress.TryParse(address, out _))
        {
            errors.Add($"{path}.address", $"\"{address}\" is not an IP address");
        }

        if (port is < 0 or > 65535)
        {
            errors.Add($"{path}.port", $"{port} is not a port (0-65535, 0 for any free port)");
        }
    }

    /// <summary>Two binds collide on the same port when their addresses are equal or one is a wildcard.</summary>
    private static bool Overlaps(string addressA, int portA, string addressB, int portB)
    {
        if (portA != portB || !IPAddress.TryParse(addressA, out var a) || !IPAddress.TryParse(addressB, out var b))
        {
            return false;
        }

        return a.Equals(b) || IsWildcard(a) || IsWildcard(b);
    }

    private static bool IsWildcard(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    private void ValidateLimits()
    {
        var limits = config.Limits;
        Positive("limits.maxRequestLineBytes", limits.MaxRequestLineBytes);
        Positive("limits.maxHeaderBytes", limits.MaxHeaderBytes);
        Positive("limits.maxHeaderCount", limits.MaxHeaderCount);
        Positive("limits.maxBodyBytes", limits.MaxBodyBytes);
        Positive("limits.headerTimeoutMs", limits.HeaderTimeoutMs);
        Positive("limits.idleTimeoutMs", limits.IdleTimeoutMs);
        Positive("limits.requestBodyTimeoutMs", limits.RequestBodyTimeoutMs);
        Positive("limits.minRequestBodyBytesPerSecond", limits.MinRequestBodyBytesPerSecond);
        Positive("limits.requestBodyRateWindowMs", limits.RequestBodyRateWindowMs);
        Positive("limits.responseWriteTimeoutMs", limits.ResponseWriteTimeoutMs);
        Positive("limits.tunnelIdleTimeoutMs", limits.TunnelIdleTimeoutMs);
    }

    private void ValidateClusters()
    {
        foreach (var (name, cluster) in config.Clusters)
        {
            var path = ConfigPath.Property("clusters", name);
            Endpoints(ConfigPath.Property(path, "endpoints"), cluster.Endpoints);
            Positive($"{path}.connectTimeoutMs", cluster.ConnectTimeoutMs);
            Positive($"{path}.requestTimeoutMs", cluster.RequestTimeoutMs);
            Positive($"{path}.maxConnectionsPerWorker", cluster.MaxConnectionsPerWorker);
            Positive($"{path}.ejection.consecutiveFailures", cluster.Ejection.ConsecutiveFailures);
            Positive($"{path}.ejection.cooldownMs", cluster.Ejection.CooldownMs);
            Positive($"{path}.pooledIdleTimeoutMs", cluster.PooledIdleTimeoutMs);
            if (cluster.Tls is { Enabled: true } tls)
            {
                new TlsConfigValidator(errors).ValidateUpstream($"{path}.tls", tls);
            }
        }
    }

    private void Endpoints(string path, IReadOnlyList<string> endpoints)
    {
        if (endpoints.Count == 0)
        {
            errors.Add(path, "at least one endpoint is required");
        }

        for (var i = 0; i < endpoints.Count; i++)
        {
            if (!HostPort.TryParse(endpoints[i], out _))
            {
                errors.Add(ConfigPath.Index(path, i), $"\"{endpoints[i]}\" is not host:port");
            }
        }
    }

    private void ValidateRoutes()
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < config.Routes.Count; i++)
        {
            var route = config.Routes[i];
            var path = ConfigPath.Index("routes", i);
            if (route.Name.Length == 0)
            {
                errors.Add($"{path}.name", "must not be empty");
            }
            else if (!names.TryAdd(route.Name, i))
            {
                errors.Add($"{path}.name", $"\"{route.Name}\" is already the name of routes[{names[route.Name]}]");
            }

            ValidateMatch($"{path}.match", route.Match);
            for (var j = 0; j < route.Upgrades.Count; j++)
            {
                var protocol = route.Upgrades[j];
                // h2c would hand the upstream an HTTP/2 connection no route or plugin ever sees (UP-1).
                if (protocol.Length == 0 || protocol.Contains(',') || protocol.Contains(' ') || protocol.Contains('/')
                    || protocol.Equals("h2c", StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add(ConfigPath.Index($"{path}.upgrades", j), $"\"{protocol}\" is not an upgrade protocol name the gateway relays (a token such as \"websocket\"; never h2c)");
                }
            }
            if (!config.Clusters.ContainsKey(route.Cluster))
            {
                errors.Add($"{path}.cluster", $"unknown cluster \"{route.Cluster}\"");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var j = 0; j < route.Plugins.Count; j++)
            {
                var plugin = route.Plugins[j];
                var pluginPath = ConfigPath.Index($"{path}.plugins", j);
                if (!config.Plugins.TryGetValue(plugin, out var pluginConfig))
                {
                    errors.Add(pluginPath, $"unknown plugin \"{plugin}\"");
                }
                else if (pluginConfig.Singleton)
                {
                    errors.Add(pluginPath, $"plugin \"{plugin}\" is a singleton (a background service) and cannot run on a route");
                }
                else if (!seen.Add(plugin))
                {
                    errors.Add(pluginPath, $"plugin \"{plugin}\" is already on this route");
                }
            }
        }
    }

    private void ValidateMatch(string path, RouteMatch match)
    {
        // "*", an exact host, or "*.suffix" (the wildcard covers one or more leading labels).
        var host = match.Host;
        var hostName = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
        if (host != "*" && !HostPort.IsHostName(hostName))
        {
            errors.Add($"{path}.host", $"\"{host}\" is not \"*\", a host name or \"*.\" followed by a host name");
        }

        if (match.Path is not null && match.PathPrefix is not null)
        {
            errors.Add($"{path}.path", "set either path or pathPrefix, not both");
        }

        // RFC 9112 §3.2.1: an origin-form request target always starts with "/".
        if (match.Path is { } exact && !exact.StartsWith('/'))
        {
            errors.Add($"{path}.path", $"\"{exact}\" does not start with '/'");
        }

        if (match.PathPrefix is { } prefix && !prefix.StartsWith('/'))
        {
            errors.Add($"{path}.pathPrefix", $"\"{prefix}\" does not start with '/'");
        }

        // Requests are matched on their normalized path, so a route written otherwise could never match.
        NormalizedPath($"{path}.path", match.Path);
        NormalizedPath($"{path}.pathPrefix", match.PathPrefix);
    }

    private void NormalizedPath(string path, string? routePath)
    {
        if (routePath is null || !routePath.StartsWith('/') || routePath.Contains('?'))
        {
            return;
        }

        var result = PathNormalizer.Normalize(routePath, config.Paths, out var normalized);
        if (result != PathNormalizer.Result.Unchanged)
        {
            var expected = result == PathNormalizer.Result.Changed ? $"; write \"{normalized}\"" : "";
            errors.Add(path, $"\"{routePath}\" is not a normalized path (see paths), so no request would match it{expected}");
        }
    }

    private void ValidatePlugins()
    {
        foreach (var (name, plugin) in config.Plugins)
        {
            var path = ConfigPath.Property("plugins", name);
            if (plugin.Limits.MemoryBytes < WasmPageBytes)
            {
                errors.Add($"{path}.limits.memoryBytes", $"must be at least {WasmPageBytes} (one wasm page)");
            }

            Positive($"{path}.limits.cpuMillisecondsPerCall", plugin.Limits.CpuMillisecondsPerCall);
            if (plugin.Limits.WallMillisecondsPerCall != 0 && plugin.Limits.WallMillisecondsPerCall < plugin.Limits.CpuMillisecondsPerCall)
            {
                errors.Add($"{path}.limits.wallMillisecondsPerCall", "must be 0 (cpuMillisecondsPerCall + 50) or at least cpuMillisecondsPerCall");
            }
            Positive($"{path}.limits.hostCallBytes", plugin.Limits.HostCallBytes);
            Positive($"{path}.limits.sharedDataBytes", plugin.Limits.SharedDataBytes);
            Positive($"{path}.limits.sharedQueueBytes", plugin.Limits.SharedQueueBytes);
            Positive($"{path}.limits.httpCallsInFlight", plugin.Limits.HttpCallsInFlight);
            Positive($"{path}.limits.maxMetrics", plugin.Limits.MaxMetrics);
            foreach (var (target, access) in plugin.Redis)
            {
                PluginRedisRules.Validate(errors, ConfigPath.Property($"{path}.redis", target), target, access, config.Redis);
            }

            foreach (var (variable, value) in plugin.Environment)
            {
                // environ_get hands the guest NAME=value strings ended by NUL: neither may break that shape.
                if (variable.Length == 0 || variable.Contains('=') || variable.Contains('\0'))
                {
                    errors.Add(ConfigPath.Property($"{path}.environment", variable), "a variable name must be non-empty and contain neither '=' nor NUL");
                }
                else if (value.Contains('\0'))
                {
                    errors.Add(ConfigPath.Property($"{path}.environment", variable), "the value must not contain NUL");
                }
            }
        }
    }

    private void ValidateRedis()
    {
        // Aliases and names share one namespace: proxy_redis_init resolves either to one target.
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, _) in config.Redis)
        {
            owners[name] = name;
        }

        foreach (var (name, redis) in config.Redis)
        {
            var path = ConfigPath.Property("redis", name);
            Endpoints($"{path}.endpoints", redis.Endpoints);
            PasswordChoice(path, redis.Password, redis.PasswordFile);
            NotNegative($"{path}.database", redis.Database);
            Positive($"{path}.timeoutMs", redis.TimeoutMs);
            if (redis.MaxTimeoutMs is int maxTimeoutMs && maxTimeoutMs < redis.TimeoutMs)
            {
                errors.Add($"{path}.maxTimeoutMs", $"must be at least timeoutMs ({redis.TimeoutMs}), is {maxTimeoutMs}");
            }

            Positive($"{path}.connectTimeoutMs", redis.ConnectTimeoutMs);
            RedisTopologyRules.Validate(errors, path, redis);
            CircuitBreaker($"{path}.circuitBreaker", redis.CircuitBreaker);
            for (var i = 0; i < redis.Aliases.Count; i++)
            {
                var alias = redis.Aliases[i];
                var aliasPath = ConfigPath.Index($"{path}.aliases", i);
                if (alias.Length == 0)
                {
                    errors.Add(aliasPath, "must not be empty");
                }
                else if (!owners.TryAdd(alias, name) && owners[alias] != name)
                {
                    errors.Add(aliasPath, $"\"{alias}\" already names redis target \"{owners[alias]}\"");
                }
            }
        }
    }

    private void ValidateDatabases()
    {
        foreach (var (name, database) in config.Databases)
        {
            var path = ConfigPath.Property("databases", name);
            if (database.ConnectionString.Length == 0)
            {
                errors.Add($"{path}.connectionString", "must not be empty");
            }

            PasswordChoice(path, database.Password, database.PasswordFile);
            Positive($"{path}.timeoutMs", database.TimeoutMs);
            Positive($"{path}.maxPoolSize", database.MaxPoolSize);
            if (database.MinPoolSize is { } minimum && (minimum < 0 || minimum > database.MaxPoolSize))
            {
                errors.Add($"{path}.minPoolSize", $"must be between 0 and maxPoolSize ({database.MaxPoolSize}), is {minimum}");
            }

            if (database.MaxConnectionsPerPlugin is { } share && (share <= 0 || share > database.MaxPoolSize))
            {
                errors.Add($"{path}.maxConnectionsPerPlugin", $"must be between 1 and maxPoolSize ({database.MaxPoolSize}), is {share}");
            }

            CircuitBreaker($"{path}.circuitBreaker", database.CircuitBreaker);
            foreach (var (id, statement) in database.Statements)
            {
                var statementPath = ConfigPath.Property($"{path}.statements", id);
                if (string.IsNullOrWhiteSpace(statement.Sql))
                {
                    errors.Add($"{statementPath}.sql", "must not be empty");
                }

                Positive($"{statementPath}.maxRows", statement.MaxRows);
                Positive($"{statementPath}.maxResultBytes", statement.MaxResultBytes);
            }
        }
    }

    private void PasswordChoice(string path, string? password, string? passwordFile)
    {
        if (password is not null && passwordFile is not null)
        {
            errors.Add($"{path}.passwordFile", "set either password or passwordFile, not both");
        }
    }

    private void CircuitBreaker(string path, CircuitBreakerOptions breaker)
    {
        Positive($"{path}.failureThreshold", breaker.FailureThreshold);
        Positive($"{path}.openMs", breaker.OpenMs);
    }

    private void Positive(string path, long value)
    {
        if (value <= 0)
        {
            errors.Add(path, $"must be positive, is {value}");
        }
    }

    private void NotNegative(string path, long value)
    {
        if (value < 0)
        {
            errors.Add(path, $"must not be negative, is {value}");
        }
    }
}
