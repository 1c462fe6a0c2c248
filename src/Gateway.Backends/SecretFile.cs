namespace Gateway.Backends;

/// <summary>
/// A mounted secret (Kubernetes Secret volume, README, 'Configuration reference'). Read fresh on demand, so a rotated file
/// takes effect for the next connection without a restart. The value is never logged.
/// </summary>
internal sealed class SecretFile(string path)
{
    public string Path { get; } = path;

    public string Read() => Trim(File.ReadAllText(Path));

    public async ValueTask<string> ReadAsync(CancellationToken ct) => Trim(await File.ReadAllTextAsync(Path, ct).ConfigureAwait(false));

    // Files written with `echo` end in a newline that is not part of the password.
    private static string Trim(string text) => text.TrimEnd('\r', '\n');
}
