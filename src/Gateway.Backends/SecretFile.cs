namespace Gateway.Backends;

/// <summary>
/// A mounted secret (Kubernetes Secret volume, README, 'Configuration reference'). Read fresh on demand, so a rotated file
/// takes effect for the next connection without a restart. The value is never logged.
/// A file caught while it is being rewritten (empty, or briefly missing) is read again after a short pause; if it
/// stays so, the last value read is used: a half-written secret never becomes "no password".
/// </summary>
internal sealed class SecretFile(string path)
{
    private const int Attempts = 3;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    private string? _last;

    public string Path { get; } = path;

    public string Read()
    {
        for (int attempt = 1; ; attempt++)
        {
            string? text = TryRead();
            if (text is not null)
            {
                return Keep(text);
            }
            if (attempt == Attempts)
            {
                return Fallback();
            }
            Thread.Sleep(Pause);
        }
    }

    public async ValueTask<string> ReadAsync(CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            string? text = await TryReadAsync(ct).ConfigureAwait(false);
            if (text is not null)
            {
                return Keep(text);
            }
            if (attempt == Attempts)
            {
                return Fallback();
            }
            await Task.Delay(Pause, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The trimmed content, or null while the file is empty or missing (a writer is between truncate and write).</summary>
    private string? TryRead()
    {
        try
        {
            return NonEmpty(File.ReadAllText(Path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private async ValueTask<string?> TryReadAsync(CancellationToken ct)
    {
        try
        {
            return NonEmpty(await File.ReadAllTextAsync(Path, ct).ConfigureAwait(false));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private string Keep(string text)
    {
        Volatile.Write(ref _last, text);
        return text;
    }

    /// <summary>The last good value; with none, the read fails (clearly) rather than authenticating with nothing.</summary>
    private string Fallback() =>
        Volatile.Read(ref _last) ?? throw new IOException($"secret file {Path} is empty or missing");

    private static string? NonEmpty(string text)
    {
        // Files written with `echo` end in a newline that is not part of the password.
        string trimmed = text.TrimEnd('\r', '\n');
        return trimmed.Length == 0 ? null : trimmed;
    }
}
