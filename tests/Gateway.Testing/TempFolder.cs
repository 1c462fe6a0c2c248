namespace Gateway.Testing;

/// <summary>
/// A new folder under the system temp directory, deleted with everything in it on disposal, so a test leaves nothing
/// behind, pass or fail. Dispose it after any process using it has exited (declare it before that process's owner).
/// </summary>
public sealed class TempFolder : IDisposable
{
    /// <param name="prefix">The start of the folder's name, naming the test that made it (e.g. <c>gateway-smoke-</c>).</param>
    public TempFolder(string prefix) => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone: disposed before (Dispose may be called more than once), or removed by the test itself.
        }
    }
}
