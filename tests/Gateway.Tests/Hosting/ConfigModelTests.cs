using System.Collections;
using System.Reflection;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Testing;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The config records and the layers' options records are two models of one setting; these tests keep them one.
/// Sections of the layers' own shape are bound as they are; the rest take their defaults from the options records.
/// With every key set away from its default, every option must move away from its record's default (every option
/// has a key, and the key reaches the runtime); with no optional key set, every option must hold its record's
/// default (a config default that stops naming the options' own, or a mapping that adds one, shows here).
/// </summary>
public sealed class ConfigModelTests
{
    /// <summary>
    /// Options without a key of their own, each with the reason. TLS options are built from files that must hold
    /// real certificates; the TLS suites cover their keys.
    /// </summary>
    private static readonly Dictionary<string, string> Unkeyed = new(StringComparer.Ordinal)
    {
        ["ListenerOptions.Tls"] = "TLS: covered by the listener TLS tests with real certificates",
        ["ClusterOptions.Tls"] = "TLS: covered by the upstream TLS tests with real certificates",
        ["RedisTargetOptions.Tls"] = "TLS: covered by the Redis TLS tests with real certificates",
        ["RedisTargetOptions.Plugins"] = "filled from plugins.<p>.redis.<target>, checked through RedisPluginAccessOptions",
    };

    private const string Everything = """
    {
      "workers": 2,
      "listeners": [ { "name": "l", "address": "127.0.0.2", "port": 18080, "maxConnections": 7 } ],
      "limits": {
        "maxRequestLineBytes": 4001, "maxHeaderBytes": 32001, "maxHeaderCount": 51, "maxBodyBytes": 1001,
        "headerTimeoutMs": 1001, "idleTimeoutMs": 1002, "requestBodyTimeoutMs": 1003, "minRequestBodyBytesPerSecond": 11,
        "requestBodyRateWindowMs": 1004, "responseWriteTimeoutMs": 1005, "tunnelIdleTimeoutMs": 1006
      },
      "paths": { "mergeSlashes": false, "escapedSlashes": "keep" },
      "clusters": {
        "c": {
          "endpoints": ["upstream.test:81"], "loadBalancing": "leastRequest", "connectTimeoutMs": 1001, "requestTimeoutMs": 1002,
          "maxConnectionsPerWorker": 3, "ejection": { "consecutiveFailures": 2, "cooldownMs": 1003 }, "pooledIdleTimeoutMs": 1004
        }
      },
      "routes": [ { "name": "r", "match": { "host": "a.test", "pathPrefix": "/p/", "caseSensitive": false }, "cluster": "c",
                    "plugins": ["p"], "upgrades": [] },
                  { "name": "exact", "match": { "path": "/x" }, "cluster": "c" } ],
      "plugins": {
        "p": {
          "module": "p.wasm", "configuration": "c", "vmConfiguration": "v", "rootId": "root", "vmId": "vm",
          "failurePolicy": "open", "singleton": false, "environment": { "A": "1" },
          "limits": { "memoryBytes": 1048576, "cpuMillisecondsPerCall": 6, "wallMillisecondsPerCall": 60, "hostCallBytes": 11,
                      "sharedDataBytes": 12, "sharedQueueBytes": 13, "httpCallsInFlight": 14, "maxMetrics": 15 },
          "redis": { "r1": { "user": "u", "password": "pw", "scripts": ["e0e1f9fabfc9d4800c877a703b823ac0578ff8db"], "allowCommands": ["ping"] },
                     "r2": { "user": "u2", "passwordFile": "redis-plugin-password" } }
        },
        "s": { "module": "p.wasm", "singleton": true }
      },
      "redis": {
        "r1": { "topology": "sentinel", "endpoints": ["sentinel.test:26380"], "sentinelService": "main", "allowedDatabases": [1, 2],
                "user": "gw", "password": "pw", "database": 1, "aliases": ["alias"], "timeoutMs": 51, "maxTimeoutMs": 1001,
                "connectTimeoutMs": 1002, "circuitBreaker": { "failureThreshold": 2, "openMs": 1003 } },
        "r2": { "endpoints": ["redis.test:6380"], "passwordFile": "redis-password" }
      },
      "databases": {
        "d1": { "provider": "mysql", "connectionString": "Server=db.test;Database=d", "password": "pw", "timeoutMs": 101,
                "maxPoolSize": 5, "minPoolSize": 3, "maxConnectionsPerPlugin": 2, "caFile": "ca.pem",
                "statements": { "s": { "sql": "SELECT 1", "maxRows": 2, "maxResultBytes": 3 } },
                "circuitBreaker": { "failureThreshold": 2, "openMs": 1003 } },
        "d2": { "connectionString": "Host=db.test;Database=d", "passwordFile": "db-password" }
      }
    }
    """;

    private const string Minimal = """
    {
      "listeners": [ { "name": "l", "address": "127.0.0.1", "port": 8080 } ],
      "clusters": { "c": { "endpoints": ["upstream.test:81"] } },
      "routes": [ { "name": "r", "cluster": "c" } ],
      "plugins": { "p": { "module": "p.wasm" } },
      "redis": { "r1": { "endpoints": ["redis.test:6380"] } },
      "databases": { "d1": { "connectionString": "Host=db.test;Database=d", "statements": { "s": { "sql": "SELECT 1" } } } }
    }
    """;

    [Fact]
    public void EveryKeySet_EveryOptionLeavesItsDefault()
    {
        var options = Build(Everything);
        var atDefault = new SortedSet<string>(StringComparer.Ordinal);
        var reached = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            Walk(option, option.GetType().Name, atDefault, reached);
        }
        atDefault.ExceptWith(reached);
        atDefault.ExceptWith(Unkeyed.Keys);
        Assert.True(atDefault.Count == 0, "options no key reaches: " + string.Join(", ", atDefault));
    }

    [Fact]
    public void NoOptionalKeySet_EveryOptionHoldsItsRecordsDefault()
    {
        var options = Build(Minimal);
        var atDefault = new HashSet<string>(StringComparer.Ordinal);
        var moved = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            Walk(option, option.GetType().Name, atDefault, moved);
        }
        // What the minimal config must name, and what the loader derives from it.
        moved.ExceptWith([
            "ListenerOptions.Name", "ListenerOptions.Address", "ClusterOptions.Name", "ClusterOptions.Endpoints", "RouteOptions.Name", "RouteOptions.Cluster",
            "PluginOptions.Name", "PluginOptions.ModulePath", "RedisTargetOptions.Name", "RedisTargetOptions.Endpoints",
            "DatabaseOptions.Name", "DatabaseOptions.ConnectionString", "DatabaseOptions.Statements", "StatementOptions.Sql",
        ]);
        Assert.True(moved.Count == 0, "options whose config default differs from the options record's: " + string.Join(", ", moved));
    }

    private static List<object> Build(string json)
    {
        using var dir = new TempFolder("gateway-config-");
        dir.Write("p.wasm", "");
        dir.Write("ca.pem", "");
        dir.Write("redis-password", "secret");
        dir.Write("redis-plugin-password", "secret");
        dir.Write("db-password", "secret");
        var config = dir.LoadValid(json);
        var options = new List<object> { config.Limits, config.Paths };
        options.AddRange(RuntimeBuilder.Listeners(config));
        options.AddRange(RuntimeBuilder.Clusters(config));
        options.AddRange(RuntimeBuilder.Routes(config));
        options.AddRange(RuntimeBuilder.Plugins(config));
        options.AddRange(RuntimeBuilder.RedisTargets(config));
        options.AddRange(RuntimeBuilder.Databases(config));
        return options;
    }

    /// <summary>
    /// Compares each property of <paramref name="option"/> with the same property of a default instance of its
    /// record, descending into nested options records and into the values of dictionaries of them.
    /// </summary>
    private static void Walk(object option, string typeName, ISet<string> atDefault, ISet<string> moved)
    {
        var type = option.GetType();
        object defaults = Activator.CreateInstance(type)!;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.Name == "EqualityContract")
            {
                continue;
            }
            string path = $"{typeName}.{property.Name}";
            object? value = property.GetValue(option);
            object? standard = property.GetValue(defaults);
            if (value is not null && IsOptionsRecord(value.GetType()))
            {
                // A nested record is judged by its own properties.
                Walk(value, value.GetType().Name, atDefault, moved);
                continue;
            }
            (Same(value, standard) ? atDefault : moved).Add(path);
            if (value is IDictionary map)
            {
                foreach (object? entry in map.Values)
                {
                    if (entry is not null && IsOptionsRecord(entry.GetType()))
                    {
                        Walk(entry, entry.GetType().Name, atDefault, moved);
                    }
                }
            }
        }
    }

    private static bool IsOptionsRecord(Type type) =>
        type.Namespace?.StartsWith("Gateway.", StringComparison.Ordinal) == true && type.GetProperty("EqualityContract", BindingFlags.NonPublic | BindingFlags.Instance) is not null;

    private static bool Same(object? a, object? b)
    {
        if (a is string || b is string || a is null || b is null)
        {
            return Equals(a, b);
        }
        if (a is IDictionary da && b is IDictionary db)
        {
            return da.Count == db.Count && da.Count == 0;
        }
        if (a is IEnumerable ea && b is IEnumerable eb)
        {
            return ea.Cast<object?>().Select(x => x?.ToString()).SequenceEqual(eb.Cast<object?>().Select(x => x?.ToString()));
        }
        return Equals(a, b);
    }
}
