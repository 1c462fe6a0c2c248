using System.Diagnostics;
using Gateway.Perf.Load;
using Gateway.Perf.Tests.Loopback;
using Gateway.Testing;

namespace Gateway.Perf.Tests.Loaders;

/// <summary>
/// What both closed-loop loaders must report against a real loopback server: every 2xx the server sent is counted
/// once (less at most the one response per connection still in flight when the clock ran out), other statuses and
/// socket failures are errors with a failure reason, a <c>Connection: close</c> is a reconnect and no error, and the run
/// ends at its duration even when nothing answers.
/// </summary>
public sealed class LoaderContractTests
{
    private const int Connections = 4;
    private static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(400);

    [Theory]
    [InlineData(Loader.Epoll, 1)]
    [InlineData(Loader.Epoll, 16)]
    [InlineData(Loader.ThreadPerConnection, 1)]
    [InlineData(Loader.ThreadPerConnection, 4)]
    public async Task KeptAliveServer_CompletedIsWhatTheServerSentLessTheInFlight(Loader loader, int connections)
    {
        await using var server = new CountingServer(new ServerScript());

        var result = await loader.RunAsync(BoundedRun.Template(server.Port), Duration, connections);
        await server.StopAsync();

        Assert.Equal(0, result.Errors);
        Assert.Null(result.FailureReason);
        Assert.Equal(0, result.Reconnects);
        Assert.True(result.Completed > 0, "no response was counted");
        Assert.InRange(server.Successes - result.Completed, 0, connections);
        Assert.Equal(result.Completed, result.Latency.Count);
    }

    [Theory]
    [InlineData(Loader.Epoll)]
    [InlineData(Loader.ThreadPerConnection)]
    public async Task ServerAnswering500_EveryResponseIsAnError(Loader loader)
    {
        await using var server = new CountingServer(new ServerScript { Status = 500 });

        var result = await loader.RunAsync(BoundedRun.Template(server.Port), Duration, Connections);
        await server.StopAsync();

        Assert.Equal(0, result.Completed);
        Assert.Equal(0, server.Successes);
        Assert.True(server.Failures > 0, "the server answered nothing");
        Assert.InRange(server.Failures - result.Errors, 0, Connections);
        Assert.True(result.Failed);
        Assert.Equal($"{result.Errors} errors", result.FailureReason);
    }

    [Theory]
    [InlineData(Loader.Epoll)]
    [InlineData(Loader.ThreadPerConnection)]
    public async Task ServerClosingEveryThirdResponse_IsReconnectedWithoutErrors(Loader loader)
    {
        await using var server = new CountingServer(new ServerScript { CloseEvery = 3 });

        var result = await loader.RunAsync(BoundedRun.Template(server.Port), Duration, Connections);
        await server.StopAsync();

        Assert.Equal(0, result.Errors);
        Assert.Null(result.FailureReason);
        Assert.True(server.Closes > 0, "the server closed no connection");
        // A close the loader read before the clock ran out is one reconnect; one per connection may come too late.
        Assert.InRange(server.Closes - result.Reconnects, 0, Connections);
        Assert.InRange(server.Successes - result.Completed, 0, Connections);
    }

    [Theory]
    [InlineData(Loader.Epoll)]
    [InlineData(Loader.ThreadPerConnection)]
    public async Task DeadPort_EveryAttemptIsAnError_AndTheRunEndsOnTime(Loader loader)
    {
        using var port = ClosedPort.Any();
        var clock = Stopwatch.StartNew();

        var result = await loader.RunAsync(BoundedRun.Template(port.Port), Duration, Connections);
        clock.Stop();

        Assert.Equal(0, result.Completed);
        Assert.True(result.Errors >= Connections, $"{result.Errors} errors: each connection's first connect is refused");
        Assert.Equal(0, result.Reconnects);
        Assert.True(result.Failed);
        Assert.InRange(clock.Elapsed, Duration, Duration + BoundedRun.Slack);
    }

    [Theory]
    [InlineData(Loader.Epoll)]
    [InlineData(Loader.ThreadPerConnection)]
    public async Task ResponseInSeveralSegments_IsCountedOnceWhenItsLastByteIsIn(Loader loader)
    {
        var pause = TimeSpan.FromMilliseconds(5);
        await using var server = new CountingServer(new ServerScript { PauseBetweenSegments = pause });

        var result = await loader.RunAsync(BoundedRun.Template(server.Port), Duration, Connections);
        await server.StopAsync();

        Assert.Equal(0, result.Errors);
        Assert.True(result.Completed > 0, "no response was counted");
        Assert.InRange(server.Successes - result.Completed, 0, Connections);
        // Four segments, three pauses: a response counted at its head, not its last byte, would show a shorter time.
        Assert.True(result.Latency.Count > 0 && result.Latency.P50 * 1000 >= 3 * pause.TotalNanoseconds * 0.95,
            $"median {result.Latency.P50} µs");
    }

    [Theory]
    [InlineData(Loader.Epoll)]
    [InlineData(Loader.ThreadPerConnection)]
    public async Task VaryingHeader_ReachesTheServerWithADistinctValuePerRequest(Loader loader)
    {
        await using var server = new CountingServer(new ServerScript { RecordedHeader = "X-Api-Key" });
        var template = new RequestTemplate("127.0.0.1", server.Port, "/", [], "X-Api-Key", "key-", 1000);

        var result = await loader.RunAsync(template, Duration, Connections);
        await server.StopAsync();

        var values = server.HeaderValues.ToArray();
        Assert.True(result.Completed > 1, "too few requests to compare");
        Assert.Equal(server.Requests, values.Length);
        Assert.Equal(values.Length, values.Distinct().Count());
        var numbers = values.Select(value => long.Parse(value.StartsWith("key-", StringComparison.Ordinal) ? value[4..] : value)).ToArray();
        // Numbered from the start on: the last few sent may not have arrived before the loader closed.
        Assert.Equal(1000, numbers.Min());
        Assert.InRange(numbers.Max(), 1000, 1000 + values.Length + Connections - 1);
    }
}
