using System.Data.Common;
using Npgsql;

namespace Gateway.Configuration;

/// <summary>
/// Hides every secret of a connection string for <c>/config</c>. The string is parsed with its provider's own builder,
/// so every spelling and synonym the driver accepts (<c>Password</c>, <c>PWD</c>, <c>SSL Password</c>, ...) is
/// recognised; a provider without a builder here gets the generic ADO.NET parser, and a string neither can parse is
/// hidden whole.
/// </summary>
public static class ConnectionStringRedaction
{
    public const string Mask = "***";

    /// <param name="provider">The <c>provider</c> value of the database entry, as written in the config.</param>
    public static string Redact(string provider, string connectionString)
    {
        try
        {
            DbConnectionStringBuilder builder = provider switch
            {
                "postgresql" => new NpgsqlConnectionStringBuilder(connectionString),
                "mysql" => new MySqlConnector.MySqlConnectionStringBuilder(connectionString),
                _ => new DbConnectionStringBuilder { ConnectionString = connectionString },
            };
            return MaskSecrets(builder);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            try
            {
                return MaskSecrets(new DbConnectionStringBuilder { ConnectionString = connectionString });
            }
            catch (ArgumentException)
            {
                return Mask;
            }
        }
    }

    /// <summary>A key that names a secret, whatever its spelling: passwords, passphrases, tokens, keys of APIs.</summary>
    public static bool IsSecretKey(string key)
    {
        Span<char> normalized = stackalloc char[Math.Min(key.Length, 128)];
        int length = 0;
        foreach (char c in key)
        {
            if (char.IsAsciiLetterOrDigit(c) && length < normalized.Length)
            {
                normalized[length++] = char.ToLowerInvariant(c);
            }
        }
        var name = normalized[..length];
        return name is "pwd" or "psw"
            || name.Contains("password", StringComparison.Ordinal)
            || name.Contains("passphrase", StringComparison.Ordinal)
            || name.Contains("secret", StringComparison.Ordinal)
            || name.Contains("token", StringComparison.Ordinal)
            || name.Contains("apikey", StringComparison.Ordinal)
            || name.Contains("accesskey", StringComparison.Ordinal);
    }

    private static string MaskSecrets(DbConnectionStringBuilder builder)
    {
        var secrets = new List<string>();
        foreach (string key in builder.Keys)
        {
            if (IsSecretKey(key) && builder.TryGetValue(key, out object? value) && value is string { Length: > 0 })
            {
                secrets.Add(key);
            }
        }
        foreach (string key in secrets)
        {
            builder[key] = Mask;
        }
        return builder.ConnectionString;
    }
}
