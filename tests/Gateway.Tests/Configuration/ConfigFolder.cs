using Gateway.Configuration;
using Gateway.Testing;

namespace Gateway.Tests.Configuration;

/// <summary>
/// A <see cref="TempFolder"/> as the configuration tests use it: a config file beside the files it references, loaded
/// from there, so the loader resolves relative paths against a real folder that is gone when the test ends.
/// </summary>
internal static class ConfigFolder
{
    extension(TempFolder folder)
    {
        public string ConfigPath => folder.PathOf("gateway.json");

        /// <summary>Writes <paramref name="content"/> at <paramref name="relativePath"/>, making the folders on its way.</summary>
        public string Write(string relativePath, string content)
        {
            string path = folder.PathOf(relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
            return path;
        }

        public ConfigLoadResult Load(string json, IReadOnlyDictionary<string, string>? environment = null)
        {
            folder.Write("gateway.json", json);
            return ConfigLoader.Load(folder.ConfigPath, environment ?? new Dictionary<string, string>());
        }

        public GatewayConfig LoadValid(string json, IReadOnlyDictionary<string, string>? environment = null)
        {
            var result = folder.Load(json, environment);
            Assert.True(result.Config is not null, "expected a valid config, got:\n" + string.Join("\n", result.Errors));
            Assert.Empty(result.Errors);
            return result.Config;
        }
    }
}
