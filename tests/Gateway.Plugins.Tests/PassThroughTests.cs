using Gateway.Http.Messages;
using Gateway.Http.Transport;
using Gateway.Plugins.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Plugins.Tests;

public sealed class PassThroughTests
{
    [Fact]
    public async Task EmptyChain_ContinuesEveryPhase()
    {
        using var runtime = PluginRuntime.Load([], new PluginServices { LoggerFactory = NullLoggerFactory.Instance }, out var errors);
        Assert.Empty(errors);
        using var loop = new WorkerLoop(0);
        var outcomes = await loop.RunOnWorker(async () =>
        {
            using var worker = runtime.CreateWorker(loop);
            var stream = worker.BeginStream([], new StreamInfo("r", "c", null, null, null, "HTTP/1.1"));
            var request = new HttpRequestHead { Method = "GET", Target = "/", Authority = "example" };
            var first = await stream.OnRequestHeadersAsync(request, true);
            var second = await stream.OnResponseHeadersAsync(new HttpResponseHead { StatusCode = 200 }, true);
            stream.Complete();
            return (first, second, stream.InspectsRequestBody);
        });
        Assert.Equal(FilterAction.Continue, outcomes.first.Action);
        Assert.Equal(FilterAction.Continue, outcomes.second.Action);
        Assert.False(outcomes.InspectsRequestBody);
    }
}
