namespace Gateway.Backends;

/// <summary>A configured Redis target that plugins reach through <c>proxy_redis_call</c> (ABI §10).</summary>
public sealed class RedisTarget
{
    internal RedisTarget(RedisTargetOptions options) => Name = options.Name;

    public string Name { get; }

    public bool IsValidCommand(ReadOnlySpan<byte> resp, out string? error)
    {
        error = "not implemented yet";
        return false;
    }

    /// <summary>Never throws. <paramref name="timeoutMs"/> 0 means the configured default; larger values are clamped to it.</summary>
    public Task<RedisReply> CallAsync(ReadOnlyMemory<byte> resp, int timeoutMs) =>
        Task.FromResult(new RedisReply(RedisCallStatus.NetworkError, []));
}
