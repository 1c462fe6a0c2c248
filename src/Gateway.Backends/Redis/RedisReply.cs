namespace Gateway.Backends.Redis;

/// <summary>Callback status of <c>proxy_on_redis_call_response</c> (docs/proxy-wasm.md, 'Calls that wait').</summary>
public enum RedisCallStatus
{
    /// <summary>A reply was received, Redis error replies included.</summary>
    Ok = 0,
    /// <summary>No reply: connection failure, timeout or open circuit.</summary>
    NetworkError = 1,
}

/// <param name="Resp">One raw RESP2 reply when <see cref="RedisCallStatus.Ok"/>; empty otherwise.</param>
public readonly record struct RedisReply(RedisCallStatus Status, byte[] Resp);
