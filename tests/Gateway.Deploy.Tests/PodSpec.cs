using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.Deploy.Tests;

/// <summary>
/// The gateway's Deployment read as the kubelet would run it: the container, its mounts
/// with the files each mount holds, and the gateway.json it is given, with the
/// container's GATEWAY_ environment overrides applied (README, 'Configuration reference').
/// </summary>
internal sealed class PodSpec
{
    private const string EnvironmentPrefix = "GATEWAY_";

    public PodSpec(KubernetesManifests manifests)
    {
        Manifests = manifests;
        Deployment = manifests.Single("Deployment", "gateway").Body;
        Pod = Deployment["spec"]!["template"]!["spec"]!.AsObject();
        Container = Pod["containers"]!.AsArray().Single(c => (string)c!["name"]! == "gateway")!.AsObject();
        Mounts = ReadMounts();
        ConfigPath = ConfigPathFromArguments();
        Config = LoadConfig();
    }

    public KubernetesManifests Manifests { get; }

    public JsonObject Deployment { get; }

    public JsonObject Pod { get; }

    public JsonObject Container { get; }

    /// <summary>Each volume mount of the container with the files the kubelet puts under it.</summary>
    public IReadOnlyList<PodMount> Mounts { get; }

    /// <summary>The path the gateway reads its config from (the `--config` argument).</summary>
    public string ConfigPath { get; }

    /// <summary>The effective config: the mounted gateway.json plus environment overrides.</summary>
    public JsonObject Config { get; }

    public IEnumerable<(string Name, string Value)> GatewayEnvironment =>
        (Container["env"]?.AsArray() ?? [])
            .Select(e => ((string)e!["name"]!, (string?)e["value"] ?? ""))
            .Where(e => e.Item1.StartsWith(EnvironmentPrefix, StringComparison.Ordinal));

    public PodMount? MountHolding(string containerPath) =>
        Mounts.Where(m => containerPath.StartsWith(m.MountPath + "/", StringComparison.Ordinal))
            .MaxBy(m => m.MountPath.Length);

    /// <summary>The container port a probe or Service names, by name or number.</summary>
    public int ContainerPort(JsonNode port)
    {
        if (port.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return (int)port;
        }

        string name = (string)port!;
        return (int)Container["ports"]!.AsArray().Single(p => (string?)p!["name"] == name)!["containerPort"]!;
    }

    private List<PodMount> ReadMounts()
    {
        var volumes = Pod["volumes"]!.AsArray().ToDictionary(v => (string)v!["name"]!, v => v!.AsObject());
        var mounts = new List<PodMount>();
        foreach (JsonNode? mount in Container["volumeMounts"]!.AsArray())
        {
            JsonObject volume = volumes[(string)mount!["name"]!];
            Dictionary<string, string> files;
            string kind;
            if (volume["configMap"] is JsonObject configMap)
            {
                kind = "ConfigMap";
                files = Manifests.Single("ConfigMap", (string)configMap["name"]!).Body["data"]!.AsObject()
                    .ToDictionary(p => p.Key, p => (string)p.Value!);
            }
            else if (volume["secret"] is JsonObject secret)
            {
                kind = "Secret";
                JsonObject body = Manifests.Single("Secret", (string)secret["secretName"]!).Body;
                files = (body["stringData"]?.AsObject() ?? []).ToDictionary(p => p.Key, p => (string)p.Value!);
                foreach (var (key, value) in body["data"]?.AsObject() ?? [])
                {
                    files[key] = Encoding.UTF8.GetString(Convert.FromBase64String((string)value!));
                }
            }
            else if (volume["emptyDir"] is JsonObject)
            {
                kind = "EmptyDir";
                files = [];
            }
            else
            {
                throw new InvalidOperationException($"Volume {mount["name"]} is neither a ConfigMap, a Secret nor an emptyDir.");
            }

            mounts.Add(new PodMount((string)mount["name"]!, kind, (string)mount["mountPath"]!, mount["readOnly"] is JsonNode ro && (bool)ro,
                mount["subPath"] is not null, files));
        }

        return mounts;
    }

    private string ConfigPathFromArguments()
    {
        var arguments = (Container["args"]?.AsArray() ?? []).Select(a => (string)a!).ToList();
        int index = arguments.IndexOf("--config");
        Assert.True(index >= 0 && index + 1 < arguments.Count, "The container passes --config PATH.");
        return arguments[index + 1];
    }

    private JsonObject LoadConfig()
    {
        PodMount mount = MountHolding(ConfigPath)
            ?? throw new InvalidOperationException($"--config {ConfigPath} is not under any mount.");
        string key = ConfigPath[(mount.MountPath.Length + 1)..];
        Assert.True(mount.Files.ContainsKey(key), $"{mount.Kind} of mount {mount.Name} has no key {key}.");
        JsonObject config = JsonNode.Parse(mount.Files[key])!.AsObject();
        foreach (var (name, value) in GatewayEnvironment)
        {
            ApplyOverride(config, name[EnvironmentPrefix.Length..].Split("__"), value);
        }

        return config;
    }

    /// <summary>`GATEWAY_ADMIN__PORT=9000` sets admin.port (key match ignores case, as the loader's does).</summary>
    private static void ApplyOverride(JsonNode node, string[] path, string value)
    {
        for (int i = 0; i < path.Length; i++)
        {
            bool last = i == path.Length - 1;
            if (node is JsonArray array)
            {
                int index = int.Parse(path[i], System.Globalization.CultureInfo.InvariantCulture);
                if (last)
                {
                    array[index] = Typed(array[index], value);
                    return;
                }

                node = array[index]!;
                continue;
            }

            JsonObject obj = node.AsObject();
            string key = obj.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, path[i], StringComparison.OrdinalIgnoreCase)) ?? path[i];
            if (last)
            {
                obj[key] = Typed(obj[key], value);
                return;
            }

            node = obj[key] ??= new JsonObject();
        }
    }

    private static JsonNode Typed(JsonNode? existing, string value) =>
        existing?.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False
                => JsonNode.Parse(value)!,
            _ => JsonValue.Create(value),
        };
}

/// <summary>A volume mount and the files (key → content) the kubelet writes under it.</summary>
internal sealed record PodMount(string Name, string Kind, string MountPath, bool ReadOnly, bool UsesSubPath,
    IReadOnlyDictionary<string, string> Files);
