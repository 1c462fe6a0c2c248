namespace Gateway.Configuration;

/// <summary>A file the config names (<c>${file:}</c>, <c>passwordFile</c>, a module), read as the loader needs it.</summary>
internal static class ReferencedFile
{
    /// <summary>Relative paths are against the config file's folder; false for what is no path at all (a NUL inside).</summary>
    public static bool TryGetFullPath(string path, string baseDirectory, out string fullPath)
    {
        try
        {
            fullPath = Path.GetFullPath(path, baseDirectory);
            return true;
        }
        catch (ArgumentException)
        {
            fullPath = "";
            return false;
        }
    }

    /// <summary>
    /// The content less one trailing newline: the newline that <c>echo</c> and most editors put after a
    /// secret written by hand is not part of the secret.
    /// </summary>
    public static bool TryRead(string path, out string content, out string problem)
    {
        try
        {
            content = TrimOneNewline(File.ReadAllText(path));
            problem = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            content = "";
            problem = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no such file",
                UnauthorizedAccessException => "permission denied",
                _ => e.Message,
            };
            return false;
        }
    }

    private static string TrimOneNewline(string text) =>
        text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2]
        : text.EndsWith('\n') ? text[..^1]
        : text;
}
