using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary>
/// The active config as the admin <c>/config</c> endpoint shows it: every default filled in, and no
/// secret (README, 'What a client sees when something goes wrong': nothing from a secret is ever shown). Passwords, the password in a connection
/// string, and whatever a <c>${env:}</c> or <c>${file:}</c> reference brought in are replaced by <c>***</c>.
/// </summary>
public static class ConfigRedaction
{
    private const string Mask = "***";

    private static readonly JsonWriterOptions Indented = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string ToRedactedJson(GatewayConfig config)
    {
        var root = JsonSerializer.SerializeToNode(config, ConfigJsonContext.Default.GatewayConfig)!;
        if (config.ResolvedReferences.Count > 0)
        {
            MaskReferences(root, "", config.ResolvedReferences);
        }

        MaskPasswords(root["redis"]);
        if (root["plugins"] is JsonObject plugins)
        {
            foreach (var (_, plugin) in plugins)
            {
                MaskPasswords(plugin?["redis"]);
            }
        }

        MaskPasswords(root["databases"]);
        MaskSecretKeys(root);
        PluginConfigurationDigest.Replace(root["plugins"], config.Plugins);

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            root.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void MaskReferences(JsonNode node, string path, IReadOnlyDictionary<string, string> redacted)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToArray())
            {
                var childPath = ConfigPath.Property(path, key);
                if (redacted.TryGetValue(childPath, out var text))
                {
                    obj[key] = text;
                }
                else if (child is not null)
                {
                    MaskReferences(child, childPath, redacted);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                var childPath = ConfigPath.Index(path, i);
                if (redacted.TryGetValue(childPath, out var text))
                {
                    array[i] = text;
                }
                else if (array[i] is { } child)
                {
                    MaskReferences(child, childPath, redacted);
                }
            }
        }
    }

    private static void MaskPasswords(JsonNode? section)
    {
        if (section is not JsonObject targets)
        {
            return;
        }

        foreach (var (_, target) in targets)
        {
            if (target is not JsonObject entry)
            {
                continue;
            }

            if (entry["password"] is not null)
            {
                entry["password"] = Mask;
            }

            if (entry["connectionString"] is JsonValue connectionString && connectionString.GetValueKind() == JsonValueKind.String)
            {
                // Also catches secrets a GATEWAY_* override put into the string.
                string provider = entry["provider"] is JsonValue p && p.GetValueKind() == JsonValueKind.String ? p.GetValue<string>() : "";
                entry["connectionString"] = ConnectionStringRedaction.Redact(provider, MaskConnectionStringPassword(connectionString.GetValue<string>()));
            }
        }
    }

    /// <summary>
    /// Masks every string property whose name says it holds a secret (a password, token, API key...) wherever it is,
    /// also those a <c>GATEWAY_*</c> override set; plugin configuration is shown as a digest instead.
    /// </summary>
    private static void MaskSecretKeys(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToArray())
            {
                if (child is JsonValue value && value.GetValueKind() == JsonValueKind.String && ConnectionStringRedaction.IsSecretKey(key)
                    && !key.EndsWith("File", StringComparison.Ordinal))
                {
                    obj[key] = Mask;
                }
                else
                {
                    MaskSecretKeys(child);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array)
            {
                MaskSecretKeys(child);
            }
        }
    }

    /// <summary>
    /// Replaces the value of every Password/PWD/PSW pair of an ADO.NET connection string
    /// (<c>key=value;…</c>, values optionally quoted with ' or " and the quote doubled inside).
    /// </summary>
    internal static string MaskConnectionStringPassword(string connectionString)
    {
        var result = new StringBuilder(connectionString.Length);
        var i = 0;
        while (i < connectionString.Length)
        {
            var equals = connectionString.IndexOf('=', i);
            var separator = connectionString.IndexOf(';', i);
            if (equals < 0 || (separator >= 0 && separator < equals))
            {
                // A pair without a value: keep it and go on after its ';'.
                var stop = separator < 0 ? connectionString.Length : separator + 1;
                result.Append(connectionString, i, stop - i);
                i = stop;
                continue;
            }

            var key = connectionString.AsSpan(i, equals - i).Trim();
            var end = ValueEnd(connectionString, equals + 1);
            result.Append(connectionString, i, equals + 1 - i);
            if (key.Equals("password", StringComparison.OrdinalIgnoreCase)
                || key.Equals("pwd", StringComparison.OrdinalIgnoreCase)
                || key.Equals("psw", StringComparison.OrdinalIgnoreCase))
            {
                result.Append(Mask);
            }
            else
            {
                result.Append(connectionString, equals + 1, end - equals - 1);
            }

            if (end < connectionString.Length)
            {
                result.Append(';');
            }

            i = end + 1;
        }

        return result.ToString();
    }

    /// <summary>Index of the ';' that ends the value starting at <paramref name="start"/>, or the string's length.</summary>
    private static int ValueEnd(string text, int start)
    {
        var i = start;
        while (i < text.Length && text[i] == ' ')
        {
            i++;
        }

        if (i < text.Length && text[i] is '\'' or '"')
        {
            var quote = text[i++];
            while (i < text.Length)
            {
                if (text[i] == quote)
                {
                    if (i + 1 < text.Length && text[i + 1] == quote)
                    {
                        i += 2;
                        continue;
                    }

                    i++;
                    break;
                }

                i++;
            }
        }

        var separator = text.IndexOf(';', i);
        return separator < 0 ? text.Length : separator;
    }
}
