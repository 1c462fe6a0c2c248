using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gateway.Deploy.Tests;

/// <summary>One Kubernetes object and the file it came from.</summary>
internal sealed record KubernetesObject(string File, JsonObject Body)
{
    public string Kind => (string)Body["kind"]!;

    public string Name => (string)Body["metadata"]!["name"]!;
}

/// <summary>
/// Every YAML document under deploy/kubernetes, as JSON trees (the form the API server
/// works in), so a test can walk them like the objects kubectl would send.
/// </summary>
internal sealed class KubernetesManifests
{
    public const string RelativeDirectory = "deploy/kubernetes";

    private KubernetesManifests(IReadOnlyList<KubernetesObject> objects, IReadOnlyList<string> files)
    {
        Objects = objects;
        Files = files;
    }

    public IReadOnlyList<KubernetesObject> Objects { get; }

    /// <summary>File names of every manifest, kustomization.yaml included.</summary>
    public IReadOnlyList<string> Files { get; }

    public static KubernetesManifests Load()
    {
        string directory = Repository.PathOf(RelativeDirectory);
        var files = Directory.GetFiles(directory).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var objects = new List<KubernetesObject>();
        foreach (string file in files!)
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(Path.Combine(directory, file)))
            {
                stream.Load(reader);
            }

            foreach (YamlDocument document in stream.Documents)
            {
                if (ToJson(document.RootNode) is JsonObject body)
                {
                    objects.Add(new KubernetesObject(file, body));
                }
            }
        }

        return new KubernetesManifests(objects, files!);
    }

    public KubernetesObject Single(string kind) => Objects.Single(o => o.Kind == kind);

    public KubernetesObject Single(string kind, string name) => Objects.Single(o => o.Kind == kind && o.Name == name);

    /// <summary>YAML 1.2 core schema for plain scalars; quoted scalars stay strings.</summary>
    private static JsonNode? ToJson(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var result = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    result.Add(((YamlScalarNode)key).Value!, ToJson(value));
                }

                return result;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (YamlNode item in sequence.Children)
                {
                    array.Add(ToJson(item));
                }

                return array;
            case YamlScalarNode scalar when scalar.Style is ScalarStyle.Plain:
                string text = scalar.Value ?? "";
                if (text is "" or "~" or "null")
                {
                    return null;
                }

                if (text is "true" or "false")
                {
                    return JsonValue.Create(text == "true");
                }

                // Octal as in `defaultMode: 0440` (YAML 1.1, which Kubernetes' parser follows).
                if (text.Length > 1 && text[0] == '0' && text.All(char.IsAsciiDigit))
                {
                    return JsonValue.Create(Convert.ToInt32(text, 8));
                }

                if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int integer))
                {
                    return JsonValue.Create(integer);
                }

                return JsonValue.Create(text);
            case YamlScalarNode scalar:
                return JsonValue.Create(scalar.Value ?? "");
            default:
                throw new FormatException($"Unsupported YAML node {node.NodeType} at {node.Start}.");
        }
    }
}
