namespace Gateway.Backends.Redis;

/// <summary>
/// Where a Redis call's reply goes. <see cref="OnReply"/> runs exactly once: synchronously inside the start when
/// the call is refused at once (an open breaker, no connection), on the scheduler the call was started with
/// when Redis answers, or on a timer thread when the deadline passes first. An implementation that must not run
/// its caller's code re-entrantly posts the reply on.
/// </summary>
public abstract class RedisCallCompletion
{
    public abstract void OnReply(RedisReply reply);
}

/// <summary>The reply as a task, for callers that await it.</summary>
internal sealed class RedisReplyTask : RedisCallCompletion
{
    private readonly TaskCompletionSource<RedisReply> _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<RedisReply> Task => _source.Task;

    public override void OnReply(RedisReply reply) => _source.TrySetResult(reply);
}
