using System.Diagnostics;
using Gateway.Backends.Redis;

namespace Gateway.Backends.Tests;

internal static class RedisWarmUp
{
    /// <summary>Calls PING until it succeeds (or 10 s pass): the first calls of a fresh process include JIT time, which no timing assertion should measure.</summary>
    public static async Task<bool> UntilOkAsync(RedisTarget target, int seconds = 10)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if ((await target.CallAsync(RawRedisClient.Command("PING"), 0)).Status == RedisCallStatus.Ok)
            {
                return true;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return false;
    }
}
