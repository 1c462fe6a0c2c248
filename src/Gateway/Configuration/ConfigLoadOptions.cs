namespace Gateway.Configuration;

public sealed record ConfigLoadOptions
{
    public static ConfigLoadOptions Default { get; } = new();

    /// <summary>
    /// Whether modules, password files and <c>${file:}</c> references must exist and be readable.
    /// Turn off only to check a config where they are not mounted (a config repository's CI running
    /// <c>--check-config</c>); the snapshot then holds "" for unreadable files and must not be served.
    /// </summary>
    public bool CheckFiles { get; init; } = true;
}
