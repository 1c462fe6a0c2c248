using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Http.Transport;

namespace Gateway.Http.Tests.Transport;

/// <summary>
/// The worker's own socket transport against real loopback peers: reads and writes complete on the worker, a short read
/// waits for the next edge without losing the FIN, zero-byte reads and peeks take nothing, deadlines and disposal end
/// pending operations, a full socket holds a write back until the peer reads, and connects report refusal.
/// </summary>
public sealed class WorkerSocketStreamTests : WorkerSocketTest
{
    [Fact]
    public Task Read_TakesWhatArrived_ThenWaitsOnTheWorkerForMore() => OnWorker(async (stream, peer) =>
    {
        await peer.SendAsync("abc"u8.ToArray(), Aborted);
        var buffer = new byte[64];
        Assert.Equal("abc", await ReadTextAsync(stream, buffer));

        ValueTask<int> next = stream.ReadAsync(buffer, Aborted);
        Assert.False(next.IsCompleted);
        await peer.SendAsync("de"u8.ToArray(), Aborted);
        Assert.Equal(2, await next);
        Assert.True(Loop.IsCurrent);
        Assert.Equal("de", Encoding.ASCII.GetString(buffer, 0, 2));
    });

    [Fact]
    public Task PeersFin_AfterAShortRead_IsSeenAsTheEnd() => OnWorker(async (stream, peer) =>
    {
        await peer.SendAsync("abc"u8.ToArray(), Aborted);
        await Task.Delay(50, Aborted);
        peer.Shutdown(SocketShutdown.Send);
        await Task.Delay(50, Aborted);
        var buffer = new byte[64];
        Assert.Equal("abc", await ReadTextAsync(stream, buffer));
        Assert.Equal(0, await stream.ReadAsync(buffer, Aborted).AsTask().WaitAsync(Patience, Aborted));
    });

    [Fact]
    public Task PeersFin_WhileAReadWaits_EndsIt() => OnWorker(async (stream, peer) =>
    {
        var buffer = new byte[64];
        ValueTask<int> read = stream.ReadAsync(buffer, Aborted);
        peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await read.AsTask().WaitAsync(Patience, Aborted));
    });

    [Fact]
    public Task ZeroByteReadAndPeek_WaitForData_AndLeaveItToBeRead() => OnWorker(async (stream, peer) =>
    {
        ValueTask<int> wait = stream.ReadAsync(Memory<byte>.Empty, Aborted);
        Assert.False(wait.IsCompleted);
        await peer.SendAsync("hello"u8.ToArray(), Aborted);
        Assert.Equal(0, await wait);

        var first = new byte[1];
        Assert.Equal(1, await stream.PeekAsync(first, Aborted));
        Assert.Equal((byte)'h', first[0]);
        Assert.Equal("hello", await ReadTextAsync(stream, new byte[64]));
    });

    [Fact]
    public Task ACancelledRead_EndsWithCancellation_AndTheNextReadWorks() => OnWorker(async (stream, peer) =>
    {
        var buffer = new byte[64];
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => _ = await stream.ReadAsync(buffer, deadline.Token));
        Assert.True(Loop.IsCurrent);

        await peer.SendAsync("x"u8.ToArray(), Aborted);
        Assert.Equal("x", await ReadTextAsync(stream, buffer));
    });

    [Fact]
    public Task Disposing_FailsAPendingRead() => OnWorker(async (stream, _) =>
    {
        ValueTask<int> read = stream.ReadAsync(new byte[64], Aborted);
        stream.Dispose();
        await Assert.ThrowsAsync<IOException>(async () => await read);
        Assert.Throws<ObjectDisposedException>(() => stream.ReadAsync(new byte[1], Aborted));
    });

    [Fact]
    public Task APeersReset_FailsTheRead() => OnWorker(async (stream, peer) =>
    {
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();
        await Assert.ThrowsAsync<IOException>(async () => await stream.ReadAsync(new byte[64], Aborted).AsTask().WaitAsync(Patience, Aborted));
    });

    [Fact]
    public Task AWriteLargerThanTheSocketTakes_WaitsUntilThePeerReads() => OnWorker(async (stream, peer) =>
    {
        byte[] data = new byte[16 * 1024 * 1024];
        Random.Shared.NextBytes(data);
        ValueTask write = stream.WriteAsync(data, Aborted);
        Assert.False(write.IsCompleted);

        var received = new MemoryStream();
        Task reading = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (received.Length < data.Length)
            {
                int n = await peer.ReceiveAsync(buffer, Aborted);
                Assert.NotEqual(0, n);
                received.Write(buffer, 0, n);
            }
        }, Aborted);
        await write.AsTask().WaitAsync(Patience, Aborted);
        await reading.WaitAsync(Patience, Aborted);
        Assert.True(data.AsSpan().SequenceEqual(received.ToArray()));
    });

    [Fact]
    public Task CallsFromAnotherThread_AreCarriedToTheWorker() => OnWorker(async (stream, peer) =>
    {
        await Task.Run(async () =>
        {
            await stream.WriteAsync("ping"u8.ToArray(), Aborted);
            await peer.SendAsync("pong"u8.ToArray(), Aborted);
            var buffer = new byte[64];
            Assert.Equal(4, await stream.ReadAsync(buffer, Aborted));
        }, Aborted);
        var received = new byte[64];
        Assert.Equal(4, await peer.ReceiveAsync(received, Aborted));
    });

    [Fact]
    public async Task Connect_ToAClosedPort_IsRefused()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        var refusal = await RunOnWorkerAsync(async () =>
            await Assert.ThrowsAsync<SocketException>(() => WorkerSocketStream.ConnectAsync(new DnsEndPoint("127.0.0.1", port), Loop, Aborted)));
        Assert.Equal(SocketError.ConnectionRefused, refusal.SocketErrorCode);
    }

    [Fact]
    public async Task Connect_ByName_Resolves() => await RunOnWorkerAsync(async () =>
    {
        using Socket accepted = await AcceptAfter(out Task<WorkerSocketStream> connecting, new DnsEndPoint("localhost", Endpoint.Port));
        using WorkerSocketStream stream = await connecting;
        await stream.WriteAsync("hi"u8.ToArray(), Aborted);
        Assert.Equal(2, await accepted.ReceiveAsync(new byte[8], Aborted));
        return 0;
    });

    private async Task<string> ReadTextAsync(WorkerSocketStream stream, byte[] buffer)
    {
        int n = await stream.ReadAsync(buffer, Aborted).AsTask().WaitAsync(Patience, Aborted);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }
}
