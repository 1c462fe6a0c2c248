using Gateway.Backends;
using Gateway.Plugins.Runtime;
using Gateway.Testing.Redis;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary><c>proxy_redis_call</c> against a real redis-server on loopback, through the backends' Redis target.</summary>
public sealed class RedisHostCallTests
{
    [Fact]
    public async Task RedisCall_ByAlias_PausesAndResumesWithTheRawReply()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var backends = BackendRegistry.Create(
            [new RedisTargetOptions { Name = "cache", Endpoints = [$"127.0.0.1:{redis.Port}"], Aliases = ["outbound|6379||redis.local"], TimeoutMs = 2000 }],
            [], new CapturingLoggerFactory());
        var logs = new CapturingLoggerFactory();
        var options = Plugin("limiter", "behaviors", "redis outbound|6379||redis.local");
        using var runtime = PluginRuntime.Load([options], new PluginServices { LoggerFactory = logs, Backends = backends }, out var errors);
        Assert.Empty(errors);
        using var loop = new Gateway.Http.Transport.WorkerLoop(0);
        var values = await loop.RunOnWorker(async () =>
        {
            using var worker = runtime.CreateWorker(loop);
            var seen = new List<string?>();
            for (int i = 0; i < 2; i++)
            {
                var request = Get("/");
                var stream = worker.BeginStream(["limiter"], Info());
                var outcome = await stream.OnRequestHeadersAsync(request, true);
                Assert.Equal(FilterAction.Continue, outcome.Action);
                stream.Complete();
                seen.Add(request.Headers.Get("x-redis"));
            }
            return seen;
        });
        // Status 0 (Ok) and the RESP integer replies of INCR, without their CRLF.
        Assert.Equal(["0::1", "0::2"], values);
    }

    [Fact]
    public async Task RedisCall_UnknownTarget_FailsOpenSynchronously()
    {
        await using var backends = BackendRegistry.Create([], [], new CapturingLoggerFactory());
        var options = Plugin("limiter", "behaviors", "redis nowhere");
        using var runtime = PluginRuntime.Load([options], new PluginServices { LoggerFactory = new CapturingLoggerFactory(), Backends = backends }, out var errors);
        Assert.Empty(errors);
        using var loop = new Gateway.Http.Transport.WorkerLoop(0);
        var header = await loop.RunOnWorker(async () =>
        {
            using var worker = runtime.CreateWorker(loop);
            var request = Get("/");
            var stream = worker.BeginStream(["limiter"], Info());
            var outcome = await stream.OnRequestHeadersAsync(request, true);
            stream.Complete();
            Assert.Equal(FilterAction.Continue, outcome.Action);
            return request.Headers.Get("x-redis");
        });
        Assert.Equal("dispatch failed", header);
    }
}
