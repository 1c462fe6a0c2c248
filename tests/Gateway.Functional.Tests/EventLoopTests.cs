using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>The runtime's epoll threads serve as the workers' event loops: one per worker, unless the operator says otherwise.</summary>
public sealed class EventLoopTests
{
    [Fact]
    public async Task ThreeWorkers_ThreeSocketEventThreads()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 3));
        await ProxyOneAsync(gateway);
        Assert.Equal(3, SocketEventThreads(gateway.Pid));
    }

    [Fact]
    public async Task OperatorSetThreadCount_Wins()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(
            TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 3),
            environment: new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"] = "1" });
        await ProxyOneAsync(gateway);
        Assert.Equal(1, SocketEventThreads(gateway.Pid));
    }

    private static async Task ProxyOneAsync(GatewayProcess gateway)
    {
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
    }

    /// <summary>Threads named ".NET Sockets" (the runtime's epoll threads), from the kernel's view of the process.</summary>
    private static int SocketEventThreads(int pid) =>
        Directory.GetDirectories($"/proc/{pid}/task").Count(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == ".NET Sockets");
}
