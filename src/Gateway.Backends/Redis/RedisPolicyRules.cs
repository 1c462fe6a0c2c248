namespace Gateway.Backends.Redis;

/// <summary>What configuration may ask of the Redis command policy, for the config checks.</summary>
public static class RedisPolicyRules
{
    /// <summary>False for commands no <c>allowCommands</c> entry may allow: they would break the connection others share.</summary>
    public static bool CanBeAllowed(string command) => RedisCommandTable.Find(command).Kind != RedisCommandKind.Never;
}
