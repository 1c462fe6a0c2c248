namespace Gateway.Configuration;

/// <summary>
/// Collects every problem of a config, each prefixed with its key path (<c>routes[1].cluster</c>).
/// A problem found at a path hides later ones at that path or below it, so a value that is already
/// reported as mistyped is not reported again by the checks that run after it was replaced.
/// </summary>
internal sealed class ConfigErrors
{
    private readonly List<string> _messages = [];
    private readonly List<string> _paths = [];

    public int Count => _messages.Count;

    public IReadOnlyList<string> Messages => _messages;

    public void Add(string path, string message)
    {
        foreach (var reported in _paths)
        {
            if (ConfigPath.IsAtOrBelow(path, reported))
            {
                return;
            }
        }

        _paths.Add(path);
        _messages.Add(path.Length == 0 ? message : $"{path}: {message}");
    }

    /// <summary>A problem with no key path (the file itself); never hides others.</summary>
    public void AddGeneral(string message) => _messages.Add(message);
}

/// <summary>Key paths in the notation operators read in error messages: <c>clusters.backend.endpoints[0]</c>.</summary>
internal static class ConfigPath
{
    public static string Property(string parent, string key)
    {
        var simple = key.Length > 0;
        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '$'))
            {
                simple = false;
                break;
            }
        }

        var segment = simple ? key : $"[\"{key}\"]";
        return parent.Length == 0 ? segment : simple ? $"{parent}.{segment}" : parent + segment;
    }

    public static string Index(string parent, int index) => $"{parent}[{index}]";

    public static bool IsAtOrBelow(string path, string ancestor)
    {
        if (ancestor.Length == 0 || !path.StartsWith(ancestor, StringComparison.Ordinal))
        {
            return false;
        }

        return path.Length == ancestor.Length || path[ancestor.Length] is '.' or '[';
    }
}
