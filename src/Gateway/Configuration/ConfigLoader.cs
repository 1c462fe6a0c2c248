using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary>
/// Builds a validated <see cref="GatewayConfig"/> from the config file and the environment (DESIGN §4):
/// JSON → DOM → environment overrides → <c>${env:}</c>/<c>${file:}</c> references → schema check →
/// source-generated deserialization → file paths → semantic checks. Every step reports all it finds,
/// so an operator fixes a file in one round.
/// </summary>
public sealed class ConfigLoader
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        // Operators annotate config files; neither habit is ambiguous.
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        // A key given twice is a mistake whichever value was meant.
        AllowDuplicateProperties = false,
    };

    private ConfigLoader()
    {
    }

    /// <summary>Never throws for bad input: every problem is in <see cref="ConfigLoadResult.Errors"/>.</summary>
    public static ConfigLoadResult Load(string path, IReadOnlyDictionary<string, string> environment)
    {
        var errors = new ConfigErrors();
        if (path.Length == 0 || !ReferencedFile.TryGetFullPath(path, Environment.CurrentDirectory, out var fullPath))
        {
            errors.AddGeneral($"\"{path}\" is not a file path");
            return new ConfigLoadResult(null, errors.Messages, []);
        }

        var referenced = new List<string> { fullPath };
        var config = Build(fullPath, environment, errors, referenced);
        return errors.Count == 0 && config is not null
            ? new ConfigLoadResult(config, [], referenced)
            : new ConfigLoadResult(null, errors.Messages, referenced);
    }

    private static GatewayConfig? Build(string fullPath, IReadOnlyDictionary<string, string> environment, ConfigErrors errors, List<string> referenced)
    {
        var root = Parse(fullPath, errors);
        if (root is null)
        {
            return null;
        }

        var directory = Path.GetDirectoryName(fullPath)!;
        ExpandStatementShorthand(root);
        EnvironmentOverrides.Apply(root, environment, errors);
        var resolver = new ReferenceResolver(directory, environment, errors);
        resolver.ResolveAll(root);
        foreach (var file in resolver.Files)
        {
            AddReferenced(referenced, file);
        }

        ConfigSchema.Check(root, errors);

        GatewayConfig config;
        try
        {
            config = root.Deserialize(ConfigJsonContext.Default.GatewayConfig)!;
        }
        catch (JsonException e)
        {
            // The schema check leaves nothing the deserializer rejects; this is the backstop.
            errors.Add(JsonPath(e.Path), Reason(e));
            return null;
        }

        config = ResolvePaths(config, directory, errors, referenced);
        new ConfigValidator(config, errors).Validate();
        return config with { ResolvedReferences = resolver.RedactedValues };
    }

    private static JsonObject? Parse(string fullPath, ConfigErrors errors)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.AddGeneral($"{fullPath}: cannot read: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}");
            return null;
        }

        // Parsed as a document first: it reports syntax errors with their position and rejects duplicate
        // keys up front, where JsonNode.Parse would only notice a duplicate lazily, in the middle of a walk.
        try
        {
            using var document = JsonDocument.Parse(bytes, DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.AddGeneral($"{fullPath}: the top level must be a JSON object");
                return null;
            }

            return JsonObject.Create(document.RootElement.Clone())!;
        }
        catch (JsonException e)
        {
            // A duplicate key is only found once the document is built, so it carries no position.
            var position = e.LineNumber is { } line ? $":{line + 1}:{e.BytePositionInLine + 1}" : "";
            errors.AddGeneral($"{fullPath}{position}: invalid JSON: {Reason(e)}");
            return null;
        }
    }

    /// <summary><c>"statements": { "id": "SELECT …" }</c> is shorthand for <c>{ "id": { "sql": "SELECT …" } }</c>.</summary>
    private static void ExpandStatementShorthand(JsonObject root)
    {
        if (root["databases"] is not JsonObject databases)
        {
            return;
        }

        foreach (var (_, database) in databases)
        {
            if (database is JsonObject { } entry && entry["statements"] is JsonObject statements)
            {
                foreach (var (id, statement) in statements.ToArray())
                {
                    if (statement is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                    {
                        statements[id] = new JsonObject { ["sql"] = value.GetValue<string>() };
                    }
                }
            }
        }
    }

    /// <summary>Makes module and password file paths absolute, against the config file's folder, and checks they can be read.</summary>
    private static GatewayConfig ResolvePaths(GatewayConfig config, string directory, ConfigErrors errors, List<string> referenced)
    {
        var plugins = new Dictionary<string, PluginConfig>(StringComparer.Ordinal);
        foreach (var (name, plugin) in config.Plugins)
        {
            var path = $"{ConfigPath.Property("plugins", name)}.module";
            var modulePath = "";
            if (plugin.Module.Length == 0)
            {
                errors.Add(path, "must not be empty");
            }
            else if (!ReferencedFile.TryGetFullPath(plugin.Module, directory, out modulePath))
            {
                errors.Add(path, $"\"{plugin.Module}\" is not a file path");
            }
            else
            {
                if (!File.Exists(modulePath))
                {
                    errors.Add(path, $"no such file \"{modulePath}\"");
                }
            }

            plugins[name] = plugin with { ModulePath = modulePath };
        }

        var redis = new Dictionary<string, RedisConfig>(StringComparer.Ordinal);
        foreach (var (name, target) in config.Redis)
        {
            redis[name] = target with { PasswordFile = PasswordFile(ConfigPath.Property("redis", name), target.PasswordFile, directory, errors, referenced) };
        }

        var databases = new Dictionary<string, DatabaseConfig>(StringComparer.Ordinal);
        foreach (var (name, database) in config.Databases)
        {
            databases[name] = database with { PasswordFile = PasswordFile(ConfigPath.Property("databases", name), database.PasswordFile, directory, errors, referenced) };
        }

        return config with { Plugins = plugins, Redis = redis, Databases = databases };
    }

    private static string? PasswordFile(string path, string? file, string directory, ConfigErrors errors, List<string> referenced)
    {
        if (file is null)
        {
            return null;
        }

        if (file.Length == 0)
        {
            errors.Add($"{path}.passwordFile", "must not be empty");
            return file;
        }

        if (!ReferencedFile.TryGetFullPath(file, directory, out var fullPath))
        {
            errors.Add($"{path}.passwordFile", $"\"{file}\" is not a file path");
            return file;
        }

        AddReferenced(referenced, fullPath);
        if (!ReferencedFile.TryRead(fullPath, out _, out var problem))
        {
            errors.Add($"{path}.passwordFile", $"cannot read \"{fullPath}\": {problem}");
        }

        return fullPath;
    }

    private static void AddReferenced(List<string> referenced, string fullPath)
    {
        if (!referenced.Contains(fullPath, StringComparer.Ordinal))
        {
            referenced.Add(fullPath);
        }
    }

    /// <summary>"$.routes[1].cluster" → "routes[1].cluster".</summary>
    private static string JsonPath(string? path) =>
        path is null || path == "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>The exception text without the position suffix the caller already reports.</summary>
    private static string Reason(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        return cut < 0 ? message : message[..cut];
    }
}
