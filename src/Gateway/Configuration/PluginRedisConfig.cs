namespace Gateway.Configuration;

/// <summary>
/// Config <c>plugins.&lt;p&gt;.redis.&lt;target&gt;</c>: what one plugin may do on one Redis target beyond the
/// default command policy, and the ACL identity its calls run under.
/// </summary>
public sealed record PluginRedisConfig
{
    /// <summary>ACL user for this plugin's own connections; null shares the target's connection and identity.</summary>
    public string? User { get; init; }
    public string? Password { get; init; }
    /// <summary>Absolute path after loading (relative paths are against the config file's folder).</summary>
    public string? PasswordFile { get; init; }
    /// <summary>SHA-1 (40 hex digits) of each script the plugin may run with EVAL or EVALSHA.</summary>
    public IReadOnlyList<string> Scripts { get; init; } = [];
    /// <summary>Commands outside the default policy this plugin may send.</summary>
    public IReadOnlyList<string> AllowCommands { get; init; } = [];

    public bool Equals(PluginRedisConfig? other) =>
        other is not null
        && User == other.User
        && Password == other.Password
        && PasswordFile == other.PasswordFile
        && ConfigEquality.Lists(Scripts, other.Scripts)
        && ConfigEquality.Lists(AllowCommands, other.AllowCommands);

    public override int GetHashCode() => HashCode.Combine(User, PasswordFile, ConfigEquality.ListHash(Scripts), ConfigEquality.ListHash(AllowCommands));
}

/// <summary>A plugin's Redis access by target name; compared by value so an unchanged plugin stays equal across reloads.</summary>
public sealed class PluginRedisAccess : Dictionary<string, PluginRedisConfig>
{
    public PluginRedisAccess()
        : base(StringComparer.Ordinal)
    {
    }

    public override bool Equals(object? obj) => obj is PluginRedisAccess other && ConfigEquality.Maps(this, other);

    public override int GetHashCode() => Count;
}
