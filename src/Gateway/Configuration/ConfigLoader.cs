using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary>
/// Builds a validated <see cref="GatewayConfig"/> from the config file and the environment (README, 'Configuration reference'):
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

    private readonly string _fullPath;
    private readonly string _directory;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly ConfigLoadOptions _options;
    private readonly ConfigErrors _errors = new();
    private readonly List<string> _referenced;

    private ConfigLoader(string fullPath, IReadOnlyDictionary<string, string> environment, ConfigLoadOptions options)
    {
        _fullPath = fullPath;
        _directory = Path.GetDirectoryName(fullPath)!;
        _environment = environment;
        _options = options;
        _referenced = [fullPath];
    }

    /// <summary>Never throws for bad input: every problem is in <see cref="ConfigLoadResult.Errors"/>.</summary>
    public static ConfigLoadResult Load(string path, IReadOnlyDictionary<string, string> environment) =>
        Load(path, environment, ConfigLoadOptions.Default);

    public static ConfigLoadResult Load(string path, IReadOnlyDictionary<string, string> environment, ConfigLoadOptions options)
    {
        if (path.Length == 0 || !ReferencedFile.TryGetFullPath(path, Environment.CurrentDirectory, out var fullPath))
        {
            return new ConfigLoadResult(null, [$"\"{path}\" is not a file path"], []);
        }

        var loader = new ConfigLoader(fullPath, environment, options);
        var config = loader.Build();
        return loader._errors.Count == 0 && config is not null
            ? new ConfigLoadResult(config, [], loader._referenced)
            : new ConfigLoadResult(null, loader._errors.Messages, loader._referenced);
    }

    private GatewayConfig? Build()
    {
        var root = Parse();
        if (root is null)
        {
            return null;
        }

        ExpandStatementShorthand(root);
        EnvironmentOverrides.Apply(root, _environment, _errors);
        var resolver = new ReferenceResolver(_directory, _environment, _errors, _options.CheckFiles);
        resolver.ResolveAll(root);
        foreach (var file in resolver.Files)
        {
            AddReferenced(file);
        }

        ConfigSchema.Check(root, _errors);

        GatewayConfig config;
        try
        {
            config = root.Deserialize(ConfigJsonContext.Default.GatewayConfig)!;
        }
        catch (JsonException e)
        {
            // The schema check leaves nothing the deserializer rejects; this is the backstop.
            _errors.Add(JsonPath(e.Path), Reason(e));
            return null;
        }

        config = ResolvePaths(config);
        new ConfigValidator(config, _errors).Validate();
        return config with { ResolvedReferences = resolver.RedactedValues };
    }

    private JsonObject? Parse()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(_fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _errors.AddGeneral($"{_fullPath}: cannot read: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}");
            return null;
        }

        // Parsed as a document first: it reports syntax errors with their position and rejects duplicate
        // keys up front, where JsonNode.Parse would only notice a duplicate lazily, in the middle of a walk.
        try
        {
            using var document = JsonDocument.Parse(WithoutByteOrderMark(bytes), DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                _errors.AddGeneral($"{_fullPath}: the top level must be a JSON object");
                return null;
            }

            return JsonObject.Create(document.RootElement.Clone())!;
        }
        catch (JsonException e)
        {
            // A duplicate key is only found once the document is built, so it carries no position.
            var position = e.LineNumber is { } line ? $":{line + 1}:{e.BytePositionInLine + 1}" : "";
            _errors.AddGeneral($"{_fullPath}{position}: invalid JSON: {Reason(e)}");
            return null;
        }
    }

    /// <summary>Editors on Windows save UTF-8 with a BOM, which RFC 8259 §8.1 lets a parser ignore and the reader does not.</summary>
    private static ReadOnlyMemory<byte> WithoutByteOrderMark(byte[] bytes) =>
        bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsMemory(3) : bytes;

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
    private GatewayConfig ResolvePaths(GatewayConfig config)
    {
        var plugins = new Dictionary<string, PluginConfig>(StringComparer.Ordinal);
        foreach (var (name, plugin) in config.Plugins)
        {
            var path = $"{ConfigPath.Property("plugins", name)}.module";
            var modulePath = "";
            if (plugin.Module.Length == 0)
            {
                _errors.Add(path, "must not be empty");
            }
            else if (!ReferencedFile.TryGetFullPath(plugin.Module, _directory, out modulePath))
            {
                _errors.Add(path, $"\"{plugin.Module}\" is not a file path");
            }
            else
            {
                // A module replaced in place (a new image of a mounted volume) is a reload too.
                AddReferenced(modulePath);
                if (_options.CheckFiles && !File.Exists(modulePath))
                {
                    _errors.Add(path, $"no such file \"{modulePath}\"");
                }
            }

            plugins[name] = plugin with { ModulePath = modulePath, Redis = PluginRedisPasswordFiles(path, plugin.Redis) };
        }

        var redis = new Dictionary<string, RedisConfig>(StringComparer.Ordinal);
        foreach (var (name, target) in config.Redis)
        {
            string path = ConfigPath.Property("redis", name);
            redis[name] = target with
            {
                PasswordFile = PasswordFile(path, target.PasswordFile),
                Tls = target.Tls is { } tls
                    ? tls with
                    {
                        CaFile = MountedFile($"{path}.tls.caFile", tls.CaFile),
                        CertFile = MountedFile($"{path}.tls.certFile", tls.CertFile),
                        KeyFile = MountedFile($"{path}.tls.keyFile", tls.KeyFile),
                    }
                    : null,
            };
        }

        var databases = new Dictionary<string, DatabaseConfig>(StringComparer.Ordinal);
        foreach (var (name, database) in config.Databases)
        {
            var databasePath = ConfigPath.Property("databases", name);
            databases[name] = database with
            {
                PasswordFile = PasswordFile(databasePath, database.PasswordFile),
                CaFile = DatabaseCaFile($"{databasePath}.caFile", database.CaFile),
            };
        }

        return config with { Plugins = plugins, Redis = redis, Databases = databases };
    }

    /// <summary>A database's CA bundle: resolved like every mounted file, watched, and readable when files are checked.</summary>
    private string? DatabaseCaFile(string keyPath, string? file)
    {
        if (file is null)
        {
            return null;
        }

        if (file.Length == 0 || !ReferencedFile.TryGetFullPath(file, _directory, out var fullPath))
        {
            _errors.Add(keyPath, $"\"{file}\" is not a file path");
            return file;
        }

        AddReferenced(fullPath);
        if (_options.CheckFiles && !ReferencedFile.TryRead(fullPath, out _, out var problem))
        {
            _errors.Add(keyPath, $"cannot read \"{fullPath}\": {problem}");
        }

        return fullPath;
    }

    private PluginRedisAccess PluginRedisPasswordFiles(string pluginPath, PluginRedisAccess access)
    {
        var resolved = new PluginRedisAccess();
        foreach (var (target, entry) in access)
        {
            resolved[target] = entry with { PasswordFile = PasswordFile(ConfigPath.Property($"{pluginPath}.redis", target), entry.PasswordFile) };
        }

        return resolved;
    }

    private string? PasswordFile(string path, string? file) => MountedFile($"{path}.passwordFile", file);

    /// <summary>A file the config names (secret, certificate): made absolute, watched, and checked readable.</summary>
    private string? MountedFile(string key, string? file)
    {
        if (file is null)
        {
            return null;
        }

        if (file.Length == 0)
        {
            _errors.Add(key, "must not be empty");
            return file;
        }

        if (!ReferencedFile.TryGetFullPath(file, _directory, out var fullPath))
        {
            _errors.Add(key, $"\"{file}\" is not a file path");
            return file;
        }

        AddReferenced(fullPath);
        if (_options.CheckFiles && !ReferencedFile.TryRead(fullPath, out _, out var problem))
        {
            _errors.Add(key, $"cannot read \"{fullPath}\": {problem}");
        }

        return fullPath;
    }

    private void AddReferenced(string fullPath)
    {
        if (!_referenced.Contains(fullPath, StringComparer.Ordinal))
        {
            _referenced.Add(fullPath);
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
