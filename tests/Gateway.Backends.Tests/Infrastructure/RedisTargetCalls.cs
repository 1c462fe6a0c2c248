using System.Security.Cryptography;
using Gateway.Backends.Redis;

namespace Gateway.Backends.Tests;

/// <summary>Calls a target the way the host call does: as a plugin, through its policy.</summary>
internal static class RedisTargetCalls
{
    public const string Plugin = "test";

    /// <summary>Plugin access that runs every script: its own ACL identity (Redis's <c>default</c> user, no password).</summary>
    public static Dictionary<string, RedisPluginAccessOptions> OwnIdentity => new() { [Plugin] = new RedisPluginAccessOptions { User = "default" } };

    public static string Sha1(string script) => Convert.ToHexStringLower(SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(script)));

    /// <summary>A refused or malformed command fails the test: use <see cref="RedisPluginClient.Admit"/> to test refusals.</summary>
    public static Task<RedisReply> CallAsync(this RedisTarget target, byte[] query, int timeoutMs, string plugin = Plugin)
    {
        var client = target.ForPlugin(plugin);
        var admitted = client.Admit(query) ?? throw new InvalidOperationException($"the policy refused {System.Text.Encoding.UTF8.GetString(query)}");
        return client.CallAsync(admitted, timeoutMs);
    }
}
