using System.Diagnostics;
using Gateway.Perf.Tests.Loopback;

namespace Gateway.Perf.Tests.Loaders;

/// <summary>
/// What only the epoll loader promises: it never waits on one connection, so a server that accepts and never answers
/// costs it nothing past its duration (the thread-per-connection loader waits out its 10 s receive timeout there).
/// </summary>
public sealed class SaturationRunTests
{
    private const int Connections = 4;
    private static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task SilentServer_RunEndsAtItsDurationWithNoResponse()
    {
        await using var server = new CountingServer(new ServerScript { Silent = true });
        var clock = Stopwatch.StartNew();

        var result = await Loader.Epoll.RunAsync(BoundedRun.Template(server.Port), Duration, Connections);
        clock.Stop();
        await server.StopAsync();

        Assert.Equal(0, result.Completed);
        Assert.Equal(0, result.Errors);
        Assert.Equal("no response", result.FailureReason);
        Assert.InRange(clock.Elapsed, Duration, Duration + BoundedRun.Slack);
        // Each connection sent its one request and waited for it; none gave up and reconnected.
        Assert.Equal(Connections, server.Requests);
        Assert.Equal(0, result.Reconnects);
    }
}
