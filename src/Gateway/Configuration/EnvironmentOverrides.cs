using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Gateway.Backends;

namespace Gateway.Configuration;

/// <summary>
/// Applies <c>GATEWAY_A__B__0=value</c> variables to the config DOM (README, 'Configuration reference'). Segments match keys
/// case-insensitively (variables are usually upper case, keys camelCase); values are typed by the
/// schema, or, inside a plugin's free-form configuration, by the value they replace.
/// </summary>
internal static class EnvironmentOverrides
{
    private const string Prefix = "GATEWAY_";
    private const string Separator = "__";

    /// <summary>Names the config file (README, 'Command line'); not a key.</summary>
    private const string ConfigPathVariable = "GATEWAY_CONFIG";

    public static void Apply(JsonObject root, IReadOnlyDictionary<string, string> environment, ConfigErrors errors)
    {
        var names = new List<string>();
        foreach (var name in environment.Keys)
        {
            if (name.StartsWith(Prefix, StringComparison.Ordinal) && name != ConfigPathVariable)
            {
                names.Add(name);
            }
        }

        // Sorted so that two variables naming the same key resolve the same way on every start.
        names.Sort(StringComparer.Ordinal);
        foreach (var name in names)
        {
            Apply(root, name, environment[name], errors);
        }
    }

    private static void Apply(JsonObject root, string variable, string value, ConfigErrors errors)
    {
        var segments = variable[Prefix.Length..].Split(Separator);
        JsonNode container = root;
        JsonTypeInfo? type = ConfigSchema.Root;
        var path = "";
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var kind = ConfigSchema.KindOf(type);
            string? key = null;
            var index = -1;
            JsonTypeInfo? childType;
            if (kind == SchemaKind.Object)
            {
                var property = ConfigSchema.FindProperty(type!, segment, StringComparison.OrdinalIgnoreCase);
                if (property is null)
                {
                    // Kubernetes service links inject GATEWAY_PORT, GATEWAY_SERVICE_HOST, … for a Service
                    // named "gateway": variables whose first segment is no config key are not ours.
                    if (i > 0)
                    {
                        errors.Add(path, $"unknown key \"{segment}\" (environment variable {variable})");
                    }

                    return;
                }

                key = property.Name;
                childType = ConfigSchema.ValueType(property);
            }
            else if (kind == SchemaKind.Dictionary || (kind == SchemaKind.OpaqueJson && container is JsonObject))
            {
                key = MatchKey((JsonObject)container, segment);
                childType = type is null ? null : ConfigSchema.TypeInfo(type.ElementType!);
            }
            else if (kind == SchemaKind.List || (kind == SchemaKind.OpaqueJson && container is JsonArray))
            {
                if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out index) || index > 10_000)
                {
                    errors.Add(path, $"\"{segment}\" is not an array index (environment variable {variable})");
                    return;
                }

                childType = type is null ? null : ConfigSchema.TypeInfo(type.ElementType!);
            }
            else
            {
                errors.Add(path, $"is a single value and has no key \"{segment}\" (environment variable {variable})");
                return;
            }

            var childPath = key is null ? ConfigPath.Index(path, index) : ConfigPath.Property(path, key);
            var existing = key is null ? ItemAt((JsonArray)container, index) : ((JsonObject)container)[key];
            JsonNode? child;
            if (i == segments.Length - 1)
            {
                if (!TryParseValue(childType, existing, value, out child, out var problem))
                {
                    errors.Add(childPath, $"{problem} (environment variable {variable})");
                    return;
                }
            }
            else
            {
                child = existing;
                var childKind = ConfigSchema.KindOf(childType);
                var wantsArray = childKind == SchemaKind.List;
                if (child is null)
                {
                    child = wantsArray ? new JsonArray() : new JsonObject();
                }
                else if (childKind == SchemaKind.OpaqueJson ? child is not (JsonObject or JsonArray) : wantsArray ? child is not JsonArray : child is not JsonObject)
                {
                    errors.Add(childPath, $"holds a single value, so \"{segments[i + 1]}\" cannot be set inside it (environment variable {variable})");
                    return;
                }
            }

            if (!ReferenceEquals(child, existing))
            {
                if (key is null)
                {
                    SetItem((JsonArray)container, index, child);
                }
                else
                {
                    ((JsonObject)container)[key] = child;
                }
            }

            container = child!;
            type = childType;
            path = childPath;
        }
    }

    /// <summary>
    /// Map keys are names the operator chose ("rate-limit"); a variable may spell them in any case, and
    /// with '_' for '-' because shells cannot export names holding '-'. A new key is taken as written.
    /// </summary>
    private static string MatchKey(JsonObject map, string segment)
    {
        string? loose = null;
        foreach (var (key, _) in map)
        {
            if (string.Equals(key, segment, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }

            if (loose is null && string.Equals(key.Replace('-', '_'), segment, StringComparison.OrdinalIgnoreCase))
            {
                loose = key;
            }
        }

        return loose ?? segment;
    }

    private static JsonNode? ItemAt(JsonArray array, int index) => index < array.Count ? array[index] : null;

    /// <summary>Items may arrive in any order (…__1 before …__0); gaps stay null until filled, and a gap left over is reported by the schema check.</summary>
    private static void SetItem(JsonArray array, int index, JsonNode? item)
    {
        while (array.Count <= index)
        {
            array.Add(null);
        }

        array[index] = item;
    }

    private static bool TryParseValue(JsonTypeInfo? type, JsonNode? existing, string text, out JsonNode? value, out string problem)
    {
        problem = "";
        value = null;
        switch (ConfigSchema.KindOf(type))
        {
            case SchemaKind.String:
            case SchemaKind.Enum:
                value = JsonValue.Create(text);
                return true;
            case SchemaKind.Integer:
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    value = JsonValue.Create(number);
                    return true;
                }

                problem = $"\"{text}\" is not an integer";
                return false;
            case SchemaKind.Boolean:
                if (bool.TryParse(text, out var flag))
                {
                    value = JsonValue.Create(flag);
                    return true;
                }

                problem = $"\"{text}\" is not true or false";
                return false;
            case SchemaKind.OpaqueJson:
                return TryParseLike(existing, text, out value, out problem);
            case SchemaKind.List when ConfigSchema.KindOf(ConfigSchema.TypeInfo(type!.ElementType!)) == SchemaKind.String
                                      && !text.TrimStart().StartsWith('['):
                // GATEWAY_CLUSTERS__BACKEND__ENDPOINTS=10.0.0.7:8080,10.0.0.8:8080
                var items = new JsonArray();
                foreach (var item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    items.Add((JsonNode?)JsonValue.Create(item));
                }

                value = items;
                return true;
            default:
                var trimmed = text.TrimStart();
                if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
                {
                    return TryParseJson(text, out value, out problem);
                }

                if (type!.Type == typeof(StatementOptions))
                {
                    value = new JsonObject { ["sql"] = text };
                    return true;
                }

                problem = "expects an object: set its keys with __ or give it as JSON";
                return false;
        }
    }

    /// <summary>Inside free-form plugin configuration the value replaced decides the type.</summary>
    private static bool TryParseLike(JsonNode? existing, string text, out JsonNode? value, out string problem)
    {
        problem = "";
        switch (existing?.GetValueKind())
        {
            case JsonValueKind.Number:
                if (TryParseJson(text, out value, out _) && value?.GetValueKind() == JsonValueKind.Number)
                {
                    return true;
                }

                problem = $"\"{text}\" is not a number";
                return false;
            case JsonValueKind.True or JsonValueKind.False:
                if (bool.TryParse(text, out var flag))
                {
                    value = JsonValue.Create(flag);
                    return true;
                }

                value = null;
                problem = $"\"{text}\" is not true or false";
                return false;
            case JsonValueKind.Object or JsonValueKind.Array:
                return TryParseJson(text, out value, out problem);
            default:
                value = JsonValue.Create(text);
                return true;
        }
    }

    private static bool TryParseJson(string text, out JsonNode? value, out string problem)
    {
        try
        {
            value = JsonNode.Parse(text);
            problem = "";
            return true;
        }
        catch (JsonException e)
        {
            value = null;
            problem = $"invalid JSON at position {e.BytePositionInLine + 1}";
            return false;
        }
    }
}
