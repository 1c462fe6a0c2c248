using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary>
/// Replaces <c>${env:NAME}</c> and <c>${file:PATH}</c> inside every string value of the config DOM
/// (README, 'Configuration reference'). A file gives its content less one trailing newline (see <see cref="ReferencedFile"/>);
/// relative paths are against the config file's folder; <c>$${</c> stands for a literal <c>${</c>.
/// Every reference that cannot be resolved is reported at the key holding it, and the redacted form
/// of each string that held one is kept.
/// </summary>
/// <param name="checkFiles">False for an offline check: an unreadable file then yields "" and no error.</param>
internal sealed class ReferenceResolver(string baseDirectory, IReadOnlyDictionary<string, string> environment, ConfigErrors errors, bool checkFiles)
{
    private const string Redacted = "***";

    /// <summary>Each file is read once per load, so two keys naming it cannot see two versions.</summary>
    private readonly Dictionary<string, (bool Read, string Content, string Problem)> _files = new(StringComparer.Ordinal);

    /// <summary>Absolute path of every file referenced, readable or not: the watcher must see it appear.</summary>
    public IReadOnlyCollection<string> Files => _files.Keys;

    /// <summary>Key path → the string with each reference replaced by <c>***</c>.</summary>
    public Dictionary<string, string> RedactedValues { get; } = new(StringComparer.Ordinal);

    public void ResolveAll(JsonObject root)
    {
        foreach (var (key, child) in root.ToArray())
        {
            if (key == "plugins" && child is JsonObject plugins)
            {
                foreach (var (name, plugin) in plugins.ToArray())
                {
                    if (plugin is JsonObject entry)
                    {
                        ResolvePlugin(entry, ConfigPath.Property(ConfigPath.Property("", key), name));
                    }
                }

                continue;
            }

            Resolve(root, key, child, ConfigPath.Property("", key), record: true);
        }
    }

    /// <summary>
    /// A plugin's configuration reaches the model as one string, so its redacted form is the text of a
    /// redacted copy of the whole subtree, recorded at the configuration key itself.
    /// </summary>
    private void ResolvePlugin(JsonObject entry, string path)
    {
        foreach (var (key, child) in entry.ToArray())
        {
            var childPath = ConfigPath.Property(path, key);
            if (key is not ("configuration" or "vmConfiguration") || child is null)
            {
                Resolve(entry, key, child, childPath, record: true);
                continue;
            }

            var copy = new JsonObject { ["value"] = child.DeepClone() };
            if (Resolve(entry, key, child, childPath, record: false))
            {
                RedactInPlace(copy, "value", copy["value"]);
                RedactedValues[childPath] = PluginConfigurationText.Of(copy["value"]);
            }
        }
    }

    /// <summary>Resolves the value at <paramref name="parent"/>[<paramref name="key"/>]; true when it held a reference.</summary>
    private bool Resolve(JsonNode parent, object key, JsonNode? node, string path, bool record)
    {
        switch (node)
        {
            case JsonObject obj:
                var anyInObject = false;
                foreach (var (childKey, child) in obj.ToArray())
                {
                    anyInObject |= Resolve(obj, childKey, child, ConfigPath.Property(path, childKey), record);
                }

                return anyInObject;
            case JsonArray array:
                var anyInArray = false;
                for (var i = 0; i < array.Count; i++)
                {
                    anyInArray |= Resolve(array, i, array[i], ConfigPath.Index(path, i), record);
                }

                return anyInArray;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var text = value.GetValue<string>();
                if (!text.Contains("${", StringComparison.Ordinal))
                {
                    return false;
                }

                var resolved = Expand(text, path, redact: false);
                Set(parent, key, JsonValue.Create(resolved));
                if (record)
                {
                    RedactedValues[path] = Expand(text, path, redact: true);
                }

                return true;
            default:
                return false;
        }
    }

    private void RedactInPlace(JsonNode parent, object key, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (childKey, child) in obj.ToArray())
                {
                    RedactInPlace(obj, childKey, child);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    RedactInPlace(array, i, array[i]);
                }

                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                Set(parent, key, JsonValue.Create(Expand(value.GetValue<string>(), "", redact: true)));
                break;
        }
    }

    private static void Set(JsonNode parent, object key, JsonNode? value)
    {
        if (parent is JsonArray array)
        {
            array[(int)key] = value;
        }
        else
        {
            ((JsonObject)parent)[(string)key] = value;
        }
    }

    private string Expand(string text, string path, bool redact)
    {
        var result = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var start = text.IndexOf('$', i);
            if (start < 0)
            {
                break;
            }

            result.Append(text, i, start - i);
            if (string.CompareOrdinal(text, start, "$${", 0, 3) == 0)
            {
                result.Append("${");
                i = start + 3;
                continue;
            }

            var scheme = string.CompareOrdinal(text, start, "${env:", 0, 6) == 0 ? "env"
                : string.CompareOrdinal(text, start, "${file:", 0, 7) == 0 ? "file"
                : null;
            if (scheme is null)
            {
                result.Append('$');
                i = start + 1;
                continue;
            }

            var argumentStart = start + scheme.Length + 3;
            var end = text.IndexOf('}', argumentStart);
            if (end < 0)
            {
                if (!redact)
                {
                    errors.Add(path, $"\"${{{scheme}:\" has no closing '}}'");
                }

                result.Append(text, start, text.Length - start);
                i = text.Length;
                break;
            }

            var argument = text[argumentStart..end];
            result.Append(redact ? Redacted : scheme == "env" ? Env(argument, path) : File(argument, path));
            i = end + 1;
        }

        if (i < text.Length)
        {
            result.Append(text, i, text.Length - i);
        }

        return result.ToString();
    }

    private string Env(string name, string path)
    {
        if (environment.TryGetValue(name, out var value))
        {
            return value;
        }

        errors.Add(path, $"environment variable {name} is not set");
        return "";
    }

    private string File(string name, string path)
    {
        if (name.Length == 0)
        {
            errors.Add(path, "${file:} names no file");
            return "";
        }

        if (!ReferencedFile.TryGetFullPath(name, baseDirectory, out var fullPath))
        {
            errors.Add(path, $"\"{name}\" is not a file path");
            return "";
        }

        if (!_files.TryGetValue(fullPath, out var file))
        {
            file.Read = ReferencedFile.TryRead(fullPath, out file.Content, out file.Problem);
            _files[fullPath] = file;
        }

        if (!file.Read && checkFiles)
        {
            errors.Add(path, $"cannot read file \"{fullPath}\": {file.Problem}");
        }

        return file.Content;
    }
}
