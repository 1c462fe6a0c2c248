using Gateway.Http.Transport;
using StackExchange.Redis;

namespace Gateway.Backends.Redis;

/// <summary>The client's configuration for one identity on a target.</summary>
internal static class RedisConfiguration
{
    public static ConfigurationOptions Build(RedisTargetOptions options, string? password, SocketHomes homes, out string? endpointProblem)
    {
        endpointProblem = null;
        int maxTimeoutMs = Math.Max(options.TimeoutMs, options.MaxTimeoutMs);
        var configuration = new ConfigurationOptions
        {
            // 3.x defaults to RESP3; replies reach plugins as RESP2 bytes, which only a RESP2 connection maps back exactly.
            Protocol = RedisProtocol.Resp2,
            AbortOnConnectFail = false,
            // While disconnected a call fails at once; queueing it would only make it time out later.
            BacklogPolicy = BacklogPolicy.FailFast,
            ConnectTimeout = Math.Max(1, options.ConnectTimeoutMs),
            // Each call has its own deadline; the client's own timeout only backs it up.
            AsyncTimeout = maxTimeoutMs + 1000,
            SyncTimeout = maxTimeoutMs + 1000,
            ConnectRetry = 1,
            ClientName = "gateway",
            User = options.User,
            Password = string.IsNullOrEmpty(password) ? null : password,
            DefaultDatabase = options.Database,
            AllowAdmin = false,
            // Exception messages stay free of keys and arguments.
            IncludeDetailInExceptions = false,
            IncludePerformanceCountersInExceptions = false,
            ServiceName = options.Topology == RedisTopology.Sentinel ? options.SentinelService : null,
            // Plain-TCP command connections on the gateway's own transport: sent from the worker, received on a worker's
            // loop (RedisSocketTunnel); TLS keeps the client's socket path.
            Tunnel = new RedisSocketTunnel(Math.Max(1, options.ConnectTimeoutMs), homes),
        };
        foreach (string text in options.Endpoints)
        {
            if (RedisConnection.TryParseEndpoint(text, out var endpoint))
            {
                configuration.EndPoints.Add(endpoint);
            }
            else
            {
                endpointProblem ??= $"\"{text}\" is not host:port";
            }
        }

        if (options.Tls is { Enabled: true } tls)
        {
            configuration.Ssl = true;
            configuration.SslHost = tls.ServerName;
            if (tls.CaFile is not null)
            {
                configuration.TrustIssuer(tls.CaFile);
            }

            if (tls.CertFile is not null && tls.KeyFile is not null)
            {
                configuration.SetUserPemCertificate(tls.CertFile, tls.KeyFile);
            }
        }

        return configuration;
    }
}
