using System.Collections;

namespace Gateway.Hosting;

/// <summary>The process environment as a dictionary, for config overrides and <c>${env:NAME}</c> references.</summary>
public static class EnvironmentSnapshot
{
    public static IReadOnlyDictionary<string, string> Current()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            result[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        return result;
    }
}
