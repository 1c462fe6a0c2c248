using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gateway.Deploy.Tests;

/// <summary>
/// The files a gateway.json makes the gateway read (README, 'Configuration reference'): plugin `module`s, every
/// `…File` key (passwordFile and the like) and every `${file:/path}` reference.
/// </summary>
internal static partial class ConfigFileReferences
{
    public static List<string> Find(JsonNode config)
    {
        var found = new List<string>();
        Rewrite(config, path =>
        {
            found.Add(path);
            return path;
        });
        return found;
    }

    /// <summary>A copy of <paramref name="config"/> with every file reference passed through <paramref name="map"/>.</summary>
    public static JsonNode Rewrite(JsonNode config, Func<string, string> map)
    {
        JsonNode copy = config.DeepClone();
        Visit(copy, map);
        return copy;
    }

    private static void Visit(JsonNode node, Func<string, string> map)
    {
        if (node is JsonObject obj)
        {
            foreach (string key in obj.Select(p => p.Key).ToList())
            {
                if (obj[key] is not JsonNode child)
                {
                    continue;
                }

                if (child.GetValueKind() == JsonValueKind.String && (key == "module" || key.EndsWith("File", StringComparison.Ordinal)))
                {
                    obj[key] = map((string)child!);
                }
                else if (Mapped(child, map) is JsonNode replacement)
                {
                    obj[key] = replacement;
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonNode item && Mapped(item, map) is JsonNode replacement)
                {
                    array[i] = replacement;
                }
            }
        }
    }

    /// <summary>A new string node when a `${file:}` inside it was rewritten; null when the node stays.</summary>
    private static JsonNode? Mapped(JsonNode node, Func<string, string> map)
    {
        if (node.GetValueKind() != JsonValueKind.String)
        {
            Visit(node, map);
            return null;
        }

        string text = (string)node!;
        string rewritten = FileReference().Replace(text, m => "${file:" + map(m.Groups[1].Value) + "}");
        return rewritten == text ? null : JsonValue.Create(rewritten);
    }

    [GeneratedRegex(@"\$\{file:([^}]+)\}")]
    private static partial Regex FileReference();
}
