using Gateway.Backends;
using Gateway.Backends.Redis;

namespace Gateway.Configuration;

/// <summary>Checks of <c>plugins.&lt;p&gt;.redis.&lt;target&gt;</c>, each reported at its key path.</summary>
internal static class PluginRedisRules
{
    public static void Validate(ConfigErrors errors, string path, string target, PluginRedisConfig access, IReadOnlyDictionary<string, RedisConfig> targets)
    {
        if (!targets.ContainsKey(target))
        {
            errors.Add(path, $"no redis target \"{target}\" is configured (plugins name targets by their name here, not by alias)");
        }

        if (access.Password is not null && access.PasswordFile is not null)
        {
            errors.Add($"{path}.passwordFile", "set either password or passwordFile, not both");
        }

        if (access.User is null && (access.Password is not null || access.PasswordFile is not null))
        {
            errors.Add($"{path}.user", "a password needs the ACL user it belongs to");
        }
        else if (access.User is { Length: 0 })
        {
            errors.Add($"{path}.user", "must not be empty");
        }

        for (var i = 0; i < access.Scripts.Count; i++)
        {
            var sha = access.Scripts[i];
            if (sha.Length != 40 || !IsHex(sha))
            {
                errors.Add(ConfigPath.Index($"{path}.scripts", i), $"\"{sha}\" is not a SHA-1 (40 hex digits, as SCRIPT LOAD returns it)");
            }
        }

        for (var i = 0; i < access.AllowCommands.Count; i++)
        {
            var command = access.AllowCommands[i];
            if (command.Length == 0 || command.Contains(' ', StringComparison.Ordinal))
            {
                errors.Add(ConfigPath.Index($"{path}.allowCommands", i), $"\"{command}\" is not a command name");
            }
            else if (!RedisPolicyRules.CanBeAllowed(command))
            {
                errors.Add(ConfigPath.Index($"{path}.allowCommands", i),
                    $"{command.ToUpperInvariant()} cannot be allowed: it would change, block or desynchronize the connection other calls share");
            }
        }
    }

    private static bool IsHex(string text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
