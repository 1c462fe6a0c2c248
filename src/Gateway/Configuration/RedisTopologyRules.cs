using Gateway.Backends;

namespace Gateway.Configuration;

/// <summary>Checks of a Redis target's topology, TLS and database choices, each reported at its key path.</summary>
internal static class RedisTopologyRules
{
    public static void Validate(ConfigErrors errors, string path, RedisConfig redis)
    {
        switch (redis.Topology)
        {
            case RedisTopology.Standalone when redis.Endpoints.Count > 1:
                errors.Add($"{path}.endpoints", "a standalone target has one endpoint; set topology to cluster (seeds) or sentinel (sentinels) for more");
                break;
            case RedisTopology.Sentinel when string.IsNullOrWhiteSpace(redis.SentinelService):
                errors.Add($"{path}.sentinelService", "required with topology sentinel: the master's name the sentinels monitor");
                break;
            case RedisTopology.Cluster when redis.Database != 0:
                errors.Add($"{path}.database", "a Redis Cluster has only database 0");
                break;
            case RedisTopology.Cluster when redis.AllowedDatabases.Count > 0:
                errors.Add($"{path}.allowedDatabases", "a Redis Cluster has only database 0");
                break;
        }

        if (redis.Topology != RedisTopology.Sentinel && redis.SentinelService is not null)
        {
            errors.Add($"{path}.sentinelService", "only used with topology sentinel");
        }

        for (var i = 0; i < redis.AllowedDatabases.Count; i++)
        {
            if (redis.AllowedDatabases[i] is < 0 or > 15)
            {
                errors.Add(ConfigPath.Index($"{path}.allowedDatabases", i), $"must be a database number from 0 to 15, is {redis.AllowedDatabases[i]}");
            }
        }

        if (redis.Tls is { } tls && (tls.CertFile is null) != (tls.KeyFile is null))
        {
            errors.Add($"{path}.tls.{(tls.CertFile is null ? "certFile" : "keyFile")}", "a client certificate needs both certFile and keyFile");
        }
    }
}
