using System.Net;
using System.Net.Sockets;
using Gateway.Backends.Redis;
using Gateway.Http.Transport;
using RESPite.Transports;

#pragma warning disable SER009 // the client's transport seam, as in RedisSocketTransport

namespace Gateway.Backends.Tests;

/// <summary>The gateway's own transport under plain-TCP Redis connections, against a real loopback peer.</summary>
public sealed class RedisSocketTransportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FlushedBytes_ArriveInOrder_AndEveryReceivedByteReachesTheReceiver()
    {
        using var listener = Listen();
        var receiver = new RecordingReceiver();
        await using var pair = await ConnectAsync(listener, receiver);
        var (transport, peer) = (pair.Transport, pair.Peer);

        Stage(transport, "*1\r\n$4\r\nPING\r\n"u8);
        Assert.True(transport.Flush());
        Stage(transport, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"u8);
        Stage(transport, "*1\r\n$4\r\nTIME\r\n"u8);
        Assert.True(transport.Flush());
        byte[] expected = [.. "*1\r\n$4\r\nPING\r\n"u8, .. "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"u8, .. "*1\r\n$4\r\nTIME\r\n"u8];
        Assert.Equal(expected, await ReadExactlyAsync(peer, expected.Length));

        await peer.SendAsync("+PONG\r\n$-1\r\n"u8.ToArray(), Ct);
        await receiver.WaitForAsync(12);
        Assert.Equal("+PONG\r\n$-1\r\n"u8.ToArray(), receiver.Received);
        Assert.True(receiver.Batches >= 1);
        Assert.Equal(0, receiver.Closed);
    }

    [Fact]
    public async Task FlushesWhileTheSocketIsFull_QueueBehindTheWaitingSend_InOrder()
    {
        using var listener = Listen();
        await using var pair = await ConnectAsync(listener, new RecordingReceiver());
        var (transport, peer) = (pair.Transport, pair.Peer);

        // The peer reads nothing yet: after a few MiB the kernel's buffers are full and later flushes must queue.
        const int chunks = 256; // 64 MiB: more than both loopback buffers hold even when autotuned to their maximum
        const int chunkBytes = 256 * 1024;
        bool queued = false;
        for (int i = 0; i < chunks; i++)
        {
            transport.GetSpan(chunkBytes)[..chunkBytes].Fill((byte)i);
            transport.Advance(chunkBytes);
            queued |= !transport.Flush();
        }

        Assert.True(queued, "no flush had to wait: the test did not fill the socket");
        byte[] all = await ReadExactlyAsync(peer, chunks * chunkBytes);
        for (int i = 0; i < chunks; i++)
        {
            Assert.True(all.AsSpan(i * chunkBytes, chunkBytes).IndexOfAnyExcept((byte)i) < 0, $"chunk {i} out of order");
        }
    }

    [Fact]
    public async Task ClosedByThePeer_IsReportedOnce_ButAClientDisposeIsNot()
    {
        using var listener = Listen();
        var accepting = listener.AcceptSocketAsync(Ct);
        var transport = await RedisSocketTransport.ConnectAsync(listener.LocalEndpoint, SocketHomes.OwnLoop.Next(), 1000, Ct);
        var receiver = new RecordingReceiver();
        transport.Start(receiver);
        (await accepting).Dispose();
        await receiver.WaitForCloseAsync();
        await transport.DisposeAsync();
        Assert.Equal(1, receiver.Closed);

        accepting = listener.AcceptSocketAsync(Ct);
        var disposed = await RedisSocketTransport.ConnectAsync(listener.LocalEndpoint, SocketHomes.OwnLoop.Next(), 1000, Ct);
        using var peer = await accepting;
        var quiet = new RecordingReceiver();
        disposed.Start(quiet);
        await disposed.DisposeAsync();
        await Task.Delay(200, Ct);
        Assert.Equal(0, quiet.Closed);
    }

    [Fact]
    public async Task Replies_ReachTheParserOnTheConnectionsLoop()
    {
        using var listener = Listen();
        using var home = new WorkerLoop(0);
        var accepting = listener.AcceptSocketAsync(Ct);
        var transport = await RedisSocketTransport.ConnectAsync(listener.LocalEndpoint, home, 1000, Ct);
        using var peer = await accepting;
        var receiver = new RecordingReceiver { Home = home };
        transport.Start(receiver);
        await peer.SendAsync("+PONG\r\n"u8.ToArray(), Ct);
        await receiver.WaitForAsync(7);
        await transport.DisposeAsync();

        Assert.Equal("+PONG\r\n"u8.ToArray(), receiver.Received);
        Assert.Equal(0, receiver.OffTheLoop);
    }

    [Fact]
    public async Task NobodyListening_FailsTheConnect()
    {
        using var listener = Listen();
        var endpoint = listener.LocalEndpoint;
        listener.Stop();
        await Assert.ThrowsAnyAsync<SocketException>(() => RedisSocketTransport.ConnectAsync(endpoint, SocketHomes.OwnLoop.Next(), 1000, Ct));
    }

    private static TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }

    /// <summary>A transport connected to a loopback peer, receiving into <paramref name="receiver"/>.</summary>
    private static async Task<LoopbackPair> ConnectAsync(TcpListener listener, RecordingReceiver receiver)
    {
        var accepting = listener.AcceptSocketAsync(Ct);
        var transport = await RedisSocketTransport.ConnectAsync(listener.LocalEndpoint, SocketHomes.OwnLoop.Next(), 1000, Ct);
        var peer = await accepting;
        transport.Start(receiver);
        return new LoopbackPair(transport, peer);
    }

    private static void Stage(RedisSocketTransport transport, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(transport.GetSpan(bytes.Length));
        transport.Advance(bytes.Length);
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.ReadExactlyAsync(buffer, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
        return buffer;
    }

    private sealed record LoopbackPair(RedisSocketTransport Transport, Socket Peer) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transport.DisposeAsync();
            Peer.Dispose();
        }
    }

    private sealed class RecordingReceiver : TransportReceiver
    {
        private readonly List<byte> _received = [];
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public byte[] Received
        {
            get
            {
                lock (_received)
                {
                    return [.. _received];
                }
            }
        }

        private int _batches;

        public int Batches => Volatile.Read(ref _batches);

        public int Closed { get; private set; }

        /// <summary>The loop the replies must arrive on, when the test names one.</summary>
        public WorkerLoop? Home { get; init; }

        /// <summary>How many payloads arrived anywhere else.</summary>
        public int OffTheLoop { get; private set; }

        public override bool OnReceived(ReadOnlySpan<byte> payload)
        {
            if (Home is not null && !Home.IsCurrent)
            {
                OffTheLoop++;
            }

            lock (_received)
            {
                _received.AddRange(payload);
            }

            return true;
        }

        public override void OnBatchEnd() => Interlocked.Increment(ref _batches);

        public override void OnClosed(Exception? fault)
        {
            Closed++;
            _closed.TrySetResult();
        }

        /// <summary>Until <paramref name="bytes"/> have arrived and the batch that brought them has ended.</summary>
        public async Task WaitForAsync(int bytes)
        {
            for (int i = 0; i < 600 && (Received.Length < bytes || Batches == 0); i++)
            {
                await Task.Delay(50, Ct);
            }
        }

        public Task WaitForCloseAsync() => _closed.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }
}
