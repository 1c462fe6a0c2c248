using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary>
/// How <c>/config</c> shows a plugin's inline configuration and the values of its environment: they often carry
/// credentials (API keys, tokens) under names the gateway cannot know, so each is shown as its SHA-256 and length,
/// enough to tell which version is running. Environment variable names stay readable.
/// </summary>
public static class PluginConfigurationDigest
{
    /// <summary>Replaces each plugin's configuration, VM configuration and environment values in <paramref name="plugins"/> by their digests.</summary>
    public static void Replace(JsonNode? plugins, IReadOnlyDictionary<string, PluginConfig> configured)
    {
        if (plugins is not JsonObject entries)
        {
            return;
        }
        foreach (var (name, plugin) in entries)
        {
            // From the loaded values, not the node: a ${file:} reference in it was already masked there.
            if (plugin is JsonObject entry && configured.TryGetValue(name, out var options))
            {
                entry["configuration"] = Describe(options.Configuration);
                entry["vmConfiguration"] = Describe(options.VmConfiguration);
                var environment = new JsonObject();
                foreach (var (variable, value) in options.Environment)
                {
                    environment[variable] = Describe(value);
                }
                entry["environment"] = environment;
            }
        }
    }

    /// <summary><c>sha256:&lt;hex&gt; (N bytes)</c> of the UTF-8 bytes the plugin receives; empty stays empty.</summary>
    public static string Describe(string configuration)
    {
        if (configuration.Length == 0)
        {
            return "";
        }
        byte[] bytes = Encoding.UTF8.GetBytes(configuration);
        string hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return string.Create(CultureInfo.InvariantCulture, $"sha256:{hash} ({bytes.Length} bytes)");
    }
}
