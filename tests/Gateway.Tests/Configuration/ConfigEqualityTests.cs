using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Testing;

namespace Gateway.Tests.Configuration;

public sealed class ConfigEqualityTests
{
    /// <summary>Every key set, none to its default, and every null-able key non-null somewhere.</summary>
    private const string Full = """
        {
          "workers": 2,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 8080 }],
          "admin": { "address": "127.0.0.1", "port": 9901 },
          "limits": { "maxRequestLineBytes": 100, "maxHeaderBytes": 200, "maxHeaderCount": 10,
                      "maxBodyBytes": 300, "headerTimeoutMs": 400, "idleTimeoutMs": 500, "requestBodyTimeoutMs": 600,
                      "minRequestBodyBytesPerSecond": 700, "requestBodyRateWindowMs": 800, "responseWriteTimeoutMs": 900 },
          "clusters": {
            "backend": { "endpoints": ["h:1"], "loadBalancing": "leastRequest", "connectTimeoutMs": 11,
                         "requestTimeoutMs": 12, "maxConnectionsPerWorker": 13,
                         "ejection": { "consecutiveFailures": 14, "cooldownMs": 15 } },
            "backend2": { "endpoints": ["h:2"] }
          },
          "routes": [
            { "name": "a", "match": { "host": "*.example.com", "pathPrefix": "/api/" }, "cluster": "backend", "plugins": ["p"] },
            { "name": "b", "match": { "host": "example.com", "path": "/exact" }, "cluster": "backend2" }
          ],
          "plugins": {
            "p": { "module": "p.wasm", "configuration": { "k": 1 }, "vmConfiguration": "vm", "rootId": "root",
                   "vmId": "v", "failurePolicy": "open", "limits": { "memoryBytes": 131072, "cpuMillisecondsPerCall": 7 } },
            "p2": { "module": "p.wasm" },
            "service": { "module": "p.wasm", "singleton": true }
          },
          "redis": {
            "inline": { "endpoints": ["h:3"], "user": "u", "password": "pw", "database": 1, "aliases": ["x"],
                        "timeoutMs": 21, "connectTimeoutMs": 22, "circuitBreaker": { "failureThreshold": 23, "openMs": 24 } },
            "mounted": { "endpoints": ["h:4"], "passwordFile": "pw" }
          },
          "databases": {
            "inline": { "connectionString": "Host=h", "password": "pw", "timeoutMs": 31, "maxPoolSize": 32,
                        "statements": { "s": { "sql": "SELECT 1", "maxRows": 33, "maxResultBytes": 34 } },
                        "circuitBreaker": { "failureThreshold": 35, "openMs": 36 } },
            "mounted": { "connectionString": "Host=h", "passwordFile": "pw" }
          },
          "shutdown": { "drainTimeoutMs": 41, "listenerCloseDelayMs": 42 }
        }
        """;

    [Fact]
    public void SameFileLoadedTwice_ConfigsEqual()
    {
        using var dir = NewDirectory();

        var first = dir.LoadValid(Full);
        var second = dir.LoadValid(Full);

        Assert.NotSame(first, second);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        Assert.Equal(first.Clusters["backend"], second.Clusters["backend"]);
        Assert.Equal(first.Databases["inline"], second.Databases["inline"]);
    }

    [Fact]
    public void AnyValueChanged_ConfigsDiffer()
    {
        using var dir = NewDirectory();
        var baseline = dir.LoadValid(Full);
        var root = JsonNode.Parse(Full)!;
        var covered = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);

        foreach (var (path, key) in Leaves(root, "", ""))
        {
            keys.Add(key);
            var mutated = root.DeepClone();
            Mutate(mutated, path);

            var result = dir.Load(mutated.ToJsonString());
            if (result.Config is not { } changed)
            {
                continue;
            }

            Assert.True(baseline != changed, $"changing {path} left the config equal");
            covered.Add(key);
        }

        // Each key was changed at least once into a config that still validated.
        Assert.Equal(keys.Order(), covered.Order());
    }

    private static TempFolder NewDirectory()
    {
        var dir = new TempFolder("gateway-config-");
        try
        {
            dir.Write("p.wasm", "\0asm");
            dir.Write("p.wasm2", "\0asm");
            dir.Write("pw", "secret");
            dir.Write("pw2", "secret");
            return dir;
        }
        catch
        {
            // The test's using never gets a folder whose files failed to write: it goes here.
            dir.Dispose();
            throw;
        }
    }

    /// <summary>(path of segments joined by '/', last key name) of every scalar.</summary>
    private static IEnumerable<(string Path, string Key)> Leaves(JsonNode node, string path, string key)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (childKey, child) in obj)
                {
                    foreach (var leaf in Leaves(child!, $"{path}/{childKey}", childKey))
                    {
                        yield return leaf;
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var leaf in Leaves(array[i]!, $"{path}/{i}", key))
                    {
                        yield return leaf;
                    }
                }

                break;
            default:
                yield return (path, key);
                break;
        }
    }

    private static void Mutate(JsonNode root, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var parent = root;
        for (var i = 0; i < segments.Length - 1; i++)
        {
            parent = parent is JsonArray array ? array[int.Parse(segments[i], CultureInfo.InvariantCulture)]! : parent[segments[i]]!;
        }

        var last = segments[^1];
        var value = parent is JsonArray items ? items[int.Parse(last, CultureInfo.InvariantCulture)]! : parent[last]!;
        JsonNode replacement = value.GetValueKind() switch
        {
            JsonValueKind.Number => value.GetValue<int>() + 1,
            JsonValueKind.True => false,
            JsonValueKind.False => true,
            // "roundRobin"/"open" style values cannot take a suffix: swap them.
            JsonValueKind.String when value.GetValue<string>() == "leastRequest" => "roundRobin",
            JsonValueKind.String when value.GetValue<string>() == "open" => "closed",
            _ => value.GetValue<string>() + "2",
        };

        if (parent is JsonArray list)
        {
            list[int.Parse(last, CultureInfo.InvariantCulture)] = replacement;
        }
        else
        {
            parent[last] = replacement;
        }
    }
}
