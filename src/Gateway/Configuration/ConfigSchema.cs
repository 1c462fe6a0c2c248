using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Gateway.Backends;
using Gateway.Http.Paths;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Upstream;

namespace Gateway.Configuration;

/// <summary>What a config key holds, as far as the loader cares.</summary>
internal enum SchemaKind
{
    Object,
    Dictionary,
    List,
    String,
    Integer,
    Boolean,
    Enum,
    /// <summary>Any JSON, flattened to text for the guest (plugin <c>configuration</c>, <c>vmConfiguration</c>).</summary>
    OpaqueJson,
}

/// <summary>
/// The config schema, read from the source-generated metadata of the model so key names are written
/// once. Checks the DOM before it is deserialized and reports every unknown key, wrong type, null and
/// missing required key; each bad value is replaced by a placeholder of the right shape (an unknown
/// or null key is dropped, so its default applies), so deserialization then succeeds and the
/// semantic checks still run on the rest.
/// </summary>
internal static class ConfigSchema
{
    public static JsonTypeInfo Root => ConfigJsonContext.Default.GatewayConfig;

    public static JsonTypeInfo TypeInfo(Type type) =>
        ConfigJsonContext.Default.GetTypeInfo(type)
        ?? throw new InvalidOperationException($"{type} is not part of the config model");

    /// <summary>Type of a property's value, or null when it holds opaque JSON.</summary>
    public static JsonTypeInfo? ValueType(JsonPropertyInfo property) =>
        IsOpaqueJson(property) ? null : TypeInfo(property.PropertyType);

    public static SchemaKind KindOf(JsonTypeInfo? type)
    {
        if (type is null)
        {
            return SchemaKind.OpaqueJson;
        }

        switch (type.Kind)
        {
            case JsonTypeInfoKind.Object:
                return SchemaKind.Object;
            case JsonTypeInfoKind.Dictionary:
                return SchemaKind.Dictionary;
            case JsonTypeInfoKind.Enumerable:
                return SchemaKind.List;
        }

        var value = Nullable.GetUnderlyingType(type.Type) ?? type.Type;
        if (value == typeof(string))
        {
            return SchemaKind.String;
        }

        if (value == typeof(int) || value == typeof(long))
        {
            return SchemaKind.Integer;
        }

        if (value == typeof(bool))
        {
            return SchemaKind.Boolean;
        }

        if (EnumNames(value) is not null)
        {
            return SchemaKind.Enum;
        }

        throw new InvalidOperationException($"{value} has no schema kind");
    }

    /// <summary>JSON names of each enum of the model (their <c>JsonStringEnumMemberName</c>s).</summary>
    public static string[]? EnumNames(Type type) =>
        type == typeof(LoadBalancing) ? ["roundRobin", "leastRequest"]
        : type == typeof(FailurePolicy) ? ["open", "closed"]
        : type == typeof(EscapedSlashAction) ? ["reject", "keep", "unescape"]
        : type == typeof(DatabaseProvider) ? ["postgresql", "mysql"]
        : type == typeof(RedisTopology) ? ["standalone", "cluster", "sentinel"]
        : null;

    public static JsonPropertyInfo? FindProperty(JsonTypeInfo type, string name, StringComparison comparison)
    {
        foreach (var property in type.Properties)
        {
            if (string.Equals(property.Name, name, comparison))
            {
                return property;
            }
        }

        return null;
    }

    /// <summary>The two keys whose value may be any JSON; docs/proxy-wasm.md says how it reaches the guest.</summary>
    private static bool IsOpaqueJson(JsonPropertyInfo property) =>
        property.DeclaringType == typeof(PluginConfig) && property.Name is "configuration" or "vmConfiguration";

    public static void Check(JsonObject root, ConfigErrors errors) => CheckObject(root, Root, "", errors);

    /// <summary>
    /// Checks <paramref name="node"/> and everything below it. When the node itself must go,
    /// <paramref name="replace"/> is set and the node to put in its place is returned.
    /// </summary>
    private static JsonNode? Check(JsonNode node, JsonTypeInfo? type, string path, ConfigErrors errors, out bool replace)
    {
        replace = false;
        var kind = KindOf(type);
        switch (kind)
        {
            case SchemaKind.OpaqueJson:
                // Flattened here, after references were resolved, so the model holds exactly the guest's bytes.
                replace = true;
                return JsonValue.Create(PluginConfigurationText.Of(node));
            case SchemaKind.Object:
                if (node is JsonObject obj)
                {
                    CheckObject(obj, type!, path, errors);
                    return null;
                }

                break;
            case SchemaKind.Dictionary:
                if (node is JsonObject map)
                {
                    CheckEntries(map, TypeInfo(type!.ElementType!), path, errors);
                    return null;
                }

                break;
            case SchemaKind.List:
                if (node is JsonArray array)
                {
                    CheckItems(array, TypeInfo(type!.ElementType!), path, errors);
                    return null;
                }

                break;
            default:
                if (CheckScalar(node, kind, type!, path, errors))
                {
                    return null;
                }

                replace = true;
                return Placeholder(type!);
        }

        errors.Add(path, $"expected {Describe(kind)}, found {Describe(node)}");
        replace = true;
        return Placeholder(type!);
    }

    private static void CheckObject(JsonObject obj, JsonTypeInfo type, string path, ConfigErrors errors)
    {
        foreach (var (key, value) in obj.ToArray())
        {
            var childPath = ConfigPath.Property(path, key);
            var property = FindProperty(type, key, StringComparison.Ordinal);
            if (property is null)
            {
                // "$schema" lets editors offer completion; it is not config.
                if (path.Length == 0 && key == "$schema")
                {
                    continue;
                }

                var near = FindProperty(type, key, StringComparison.OrdinalIgnoreCase);
                errors.Add(childPath, near is null ? "unknown key" : $"unknown key (did you mean \"{near.Name}\"?)");
                obj.Remove(key);
                continue;
            }

            var valueType = ValueType(property);
            if (value is null)
            {
                if (valueType is null)
                {
                    obj[key] = JsonValue.Create("");
                }
                else if (!property.IsSetNullable)
                {
                    errors.Add(childPath, "must not be null");
                    obj.Remove(key);
                }

                continue;
            }

            var replacement = Check(value, valueType, childPath, errors, out var replace);
            if (replace)
            {
                obj[key] = replacement;
            }
        }

        // A missing required key gets a placeholder so deserialization succeeds; its error hides any
        // later complaint about the placeholder itself.
        foreach (var property in type.Properties)
        {
            if (property.IsRequired && obj[property.Name] is null)
            {
                errors.Add(ConfigPath.Property(path, property.Name), "required");
                obj[property.Name] = Placeholder(TypeInfo(property.PropertyType));
            }
        }
    }

    private static void CheckEntries(JsonObject map, JsonTypeInfo valueType, string path, ConfigErrors errors)
    {
        foreach (var (key, value) in map.ToArray())
        {
            var childPath = ConfigPath.Property(path, key);
            if (value is null)
            {
                errors.Add(childPath, "must not be null");
                map[key] = Placeholder(valueType);
                continue;
            }

            var replacement = Check(value, valueType, childPath, errors, out var replace);
            if (replace)
            {
                map[key] = replacement;
            }
        }
    }

    private static void CheckItems(JsonArray array, JsonTypeInfo itemType, string path, ConfigErrors errors)
    {
        for (var i = 0; i < array.Count; i++)
        {
            var childPath = ConfigPath.Index(path, i);
            var item = array[i];
            if (item is null)
            {
                errors.Add(childPath, "must not be null");
                array[i] = Placeholder(itemType);
                continue;
            }

            var replacement = Check(item, itemType, childPath, errors, out var replace);
            if (replace)
            {
                array[i] = replacement;
            }
        }
    }

    private static bool CheckScalar(JsonNode node, SchemaKind kind, JsonTypeInfo type, string path, ConfigErrors errors)
    {
        if (node is not JsonValue value)
        {
            errors.Add(path, $"expected {Describe(kind)}, found {Describe(node)}");
            return false;
        }

        var valueKind = value.GetValueKind();
        switch (kind)
        {
            case SchemaKind.String when valueKind == JsonValueKind.String:
            case SchemaKind.Boolean when valueKind is JsonValueKind.True or JsonValueKind.False:
                return true;
            case SchemaKind.Integer when valueKind is JsonValueKind.Number or JsonValueKind.String:
                // Strings are accepted because a reference (${env:PORT}) always yields one.
                var text = valueKind == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
                var isLong = (Nullable.GetUnderlyingType(type.Type) ?? type.Type) == typeof(long);
                var parsed = isLong
                    ? long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                    : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
                if (parsed)
                {
                    return true;
                }

                var isInteger = long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                    || System.Numerics.BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
                errors.Add(path, isInteger ? $"{text} is out of range" : $"expected an integer, found {Describe(node)}");
                return false;
            case SchemaKind.Enum when valueKind == JsonValueKind.String:
                var names = EnumNames(Nullable.GetUnderlyingType(type.Type) ?? type.Type)!;
                var name = value.GetValue<string>();
                if (Array.IndexOf(names, name) >= 0)
                {
                    return true;
                }

                errors.Add(path, $"\"{name}\" is not one of: {string.Join(", ", names)}");
                return false;
        }

        errors.Add(path, $"expected {Describe(kind)}, found {Describe(node)}");
        return false;
    }

    /// <summary>A value of the right shape that stands in for a bad one, so one mistake is reported once.</summary>
    private static JsonNode Placeholder(JsonTypeInfo type)
    {
        switch (KindOf(type))
        {
            case SchemaKind.Object:
                var obj = new JsonObject();
                foreach (var property in type.Properties)
                {
                    if (property.IsRequired)
                    {
                        obj[property.Name] = Placeholder(TypeInfo(property.PropertyType));
                    }
                }

                return obj;
            case SchemaKind.Dictionary:
                return new JsonObject();
            case SchemaKind.List:
                return new JsonArray();
            case SchemaKind.Integer:
                return JsonValue.Create(0);
            case SchemaKind.Boolean:
                return JsonValue.Create(false);
            case SchemaKind.Enum:
                return JsonValue.Create(EnumNames(Nullable.GetUnderlyingType(type.Type) ?? type.Type)![0]);
            default:
                return JsonValue.Create("");
        }
    }

    private static string Describe(SchemaKind kind) => kind switch
    {
        SchemaKind.Object or SchemaKind.Dictionary => "an object",
        SchemaKind.List => "an array",
        SchemaKind.Integer => "an integer",
        SchemaKind.Boolean => "true or false",
        _ => "a string",
    };

    private static string Describe(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"\"{node.GetValue<string>()}\"",
        _ => node.ToJsonString(),
    };
}
