using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Http.Transport;

namespace Gateway.Http.Tests.Transport;

/// <summary>
/// The pipes over a worker's socket against real loopback peers: reads answer at once when data is there and wait on the
/// worker when not, unconsumed bytes survive a read that needs more (growing the buffer past its size), the FIN ends the
/// input, cancellations of every kind end only the read or flush they reach, and a flush the socket cannot take whole
/// waits for the peer to read.
/// </summary>
public sealed class SocketPipeTests : WorkerSocketTest
{
    [Fact]
    public Task Read_WhenDataIsThere_CompletesAtOnce() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        await peer.SendAsync("abc"u8.ToArray(), Aborted);
        await Task.Delay(50, Aborted);

        ValueTask<ReadResult> read = input.ReadAsync(Aborted);
        Assert.True(read.IsCompletedSuccessfully);
        ReadResult result = read.Result;
        Assert.Equal("abc", Text(result.Buffer));
        Assert.False(result.IsCompleted);
        input.AdvanceTo(result.Buffer.End);
        input.Complete();
    });

    [Fact]
    public Task Read_WhenNothingIsThere_WaitsAndResumesOnTheWorker() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        ValueTask<ReadResult> read = input.ReadAsync(Aborted);
        Assert.False(read.IsCompleted);

        await peer.SendAsync("hello"u8.ToArray(), Aborted);
        ReadResult result = await read.AsTask().WaitAsync(Patience, Aborted);
        Assert.True(Loop.IsCurrent);
        Assert.Equal("hello", Text(result.Buffer));
        input.AdvanceTo(result.Buffer.End);
        input.Complete();
    });

    [Fact]
    public Task AReadThatExaminedEverything_WaitsForMore_AndKeepsWhatWasNotConsumed() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        await peer.SendAsync("GET /"u8.ToArray(), Aborted);
        ReadResult first = await ReadAsync(input);
        Assert.Equal("GET /", Text(first.Buffer));
        // Consumed "GET", examined all: the next read must not hand back the same bytes at once.
        input.AdvanceTo(first.Buffer.GetPosition(3), first.Buffer.End);

        ValueTask<ReadResult> next = input.ReadAsync(Aborted);
        Assert.False(next.IsCompleted);
        await peer.SendAsync(" HTTP/1.1"u8.ToArray(), Aborted);
        ReadResult second = await next.AsTask().WaitAsync(Patience, Aborted);
        Assert.Equal(" / HTTP/1.1", Text(second.Buffer));

        // Examined only part: the rest comes back at once.
        input.AdvanceTo(second.Buffer.GetPosition(2), second.Buffer.GetPosition(4));
        ValueTask<ReadResult> third = input.ReadAsync(Aborted);
        Assert.True(third.IsCompletedSuccessfully);
        Assert.Equal(" HTTP/1.1", Text(third.Result.Buffer));
        input.AdvanceTo(third.Result.Buffer.End);
        input.Complete();
    });

    [Fact]
    public Task AMessageLargerThanTheBuffer_IsKeptWholeAndInOrder() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        byte[] sent = new byte[100 * 1024];
        Random.Shared.NextBytes(sent);
        Task sending = Task.Run(async () =>
        {
            for (int offset = 0; offset < sent.Length; offset += 7000)
            {
                await peer.SendAsync(sent.AsMemory(offset, Math.Min(7000, sent.Length - offset)), Aborted);
                await Task.Delay(2, Aborted);
            }
        }, Aborted);

        ReadResult result;
        while (true)
        {
            result = await ReadAsync(input);
            if (result.Buffer.Length == sent.Length)
            {
                break;
            }
            // Nothing consumed, everything examined: as a parser waiting for the end of a long head.
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
        Assert.True(sent.AsSpan().SequenceEqual(result.Buffer.ToArray()));
        input.AdvanceTo(result.Buffer.End);
        await sending;
        input.Complete();
    });

    [Fact]
    public Task ThePeersFin_CompletesTheInput_WithWhatWasLeft() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        await peer.SendAsync("bye"u8.ToArray(), Aborted);
        peer.Shutdown(SocketShutdown.Send);

        ReadResult result = await ReadAsync(input);
        while (!result.IsCompleted)
        {
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await ReadAsync(input);
        }
        Assert.Equal("bye", Text(result.Buffer));
        input.AdvanceTo(result.Buffer.End);
        ReadResult after = await ReadAsync(input);
        Assert.True(after.IsCompleted);
        Assert.True(after.Buffer.IsEmpty);
        input.AdvanceTo(after.Buffer.End);
        input.Complete();
    });

    [Fact]
    public Task CancelPendingRead_EndsAWaitingRead_AndTheNextReadGetsTheData() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        ValueTask<ReadResult> read = input.ReadAsync(Aborted);
        // From another thread, as a deadline may fire.
        await Task.Run(input.CancelPendingRead, Aborted);
        ReadResult cancelled = await read.AsTask().WaitAsync(Patience, Aborted);
        Assert.True(cancelled.IsCanceled);
        input.AdvanceTo(cancelled.Buffer.Start);

        await peer.SendAsync("late"u8.ToArray(), Aborted);
        ReadResult result = await ReadAsync(input);
        Assert.False(result.IsCanceled);
        Assert.Equal("late", Text(result.Buffer));
        input.AdvanceTo(result.Buffer.End);
        input.Complete();
    });

    [Fact]
    public Task CancelPendingRead_WithNoReadPending_CancelsTheNextOneOnly() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        input.CancelPendingRead();
        ReadResult cancelled = await ReadAsync(input);
        Assert.True(cancelled.IsCanceled);
        input.AdvanceTo(cancelled.Buffer.Start);

        await peer.SendAsync("x"u8.ToArray(), Aborted);
        ReadResult result = await ReadAsync(input);
        Assert.False(result.IsCanceled);
        Assert.Equal("x", Text(result.Buffer));
        input.AdvanceTo(result.Buffer.End);
        input.Complete();
    });

    [Fact]
    public Task ACancelledToken_FailsTheRead_AndTheNextReadWorks() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await input.ReadAsync(deadline.Token));

        await peer.SendAsync("y"u8.ToArray(), Aborted);
        ReadResult result = await ReadAsync(input);
        Assert.Equal("y", Text(result.Buffer));
        input.AdvanceTo(result.Buffer.End);
        input.Complete();
    });

    [Fact]
    public Task ClosingTheSocket_FailsAWaitingRead() => OnWorker(async (socket, _) =>
    {
        var input = new SocketPipeReader(socket);
        ValueTask<ReadResult> read = input.ReadAsync(Aborted);
        socket.Dispose();
        await Assert.ThrowsAsync<IOException>(async () => await read.AsTask().WaitAsync(Patience, Aborted));
        input.Complete();
    });

    [Fact]
    public Task APeersReset_FailsTheRead() => OnWorker(async (socket, peer) =>
    {
        var input = new SocketPipeReader(socket);
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();
        await Assert.ThrowsAsync<IOException>(async () => await input.ReadAsync(Aborted).AsTask().WaitAsync(Patience, Aborted));
        input.Complete();
    });

    [Fact]
    public Task AFlushTheSocketTakes_CompletesAtOnce() => OnWorker(async (socket, peer) =>
    {
        var output = new SocketPipeWriter(socket);
        output.Write("HTTP/1.1 200 OK\r\n\r\n"u8);
        ValueTask<FlushResult> flush = output.FlushAsync(Aborted);
        Assert.True(flush.IsCompletedSuccessfully);
        Assert.False(flush.Result.IsCanceled);

        var received = new byte[64];
        int n = await peer.ReceiveAsync(received, Aborted);
        Assert.Equal("HTTP/1.1 200 OK\r\n\r\n", Encoding.ASCII.GetString(received, 0, n));
        output.Complete();
    });

    [Fact]
    public Task AFlushLargerThanTheSocketTakes_WaitsUntilThePeerReads() => OnWorker(async (socket, peer) =>
    {
        var output = new SocketPipeWriter(socket);
        byte[] data = new byte[16 * 1024 * 1024];
        Random.Shared.NextBytes(data);
        output.Write(data);
        ValueTask<FlushResult> flush = output.FlushAsync(Aborted);
        Assert.False(flush.IsCompleted);

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
        FlushResult result = await flush.AsTask().WaitAsync(Patience, Aborted);
        Assert.False(result.IsCanceled);
        await reading.WaitAsync(Patience, Aborted);
        Assert.True(data.AsSpan().SequenceEqual(received.ToArray()));
        output.Complete();
    });

    [Fact]
    public Task CancelPendingFlush_EndsAFlushThePeerDoesNotRead() => OnWorker(async (socket, _) =>
    {
        var output = new SocketPipeWriter(socket);
        output.Write(new byte[16 * 1024 * 1024]);
        ValueTask<FlushResult> flush = output.FlushAsync(Aborted);
        Assert.False(flush.IsCompleted);

        await Task.Run(output.CancelPendingFlush, Aborted);
        FlushResult result = await flush.AsTask().WaitAsync(Patience, Aborted);
        Assert.True(result.IsCanceled);
        output.Complete(new IOException("client stopped reading"));
    });

    [Fact]
    public Task CompleteAsync_SendsWhatIsUnflushed_AndCompletingWithAnError_DropsIt() => OnWorker(async (socket, peer) =>
    {
        var output = new SocketPipeWriter(socket);
        output.Write("kept"u8);
        await output.CompleteAsync();
        var received = new byte[64];
        Assert.Equal("kept", Encoding.ASCII.GetString(received, 0, await peer.ReceiveAsync(received, Aborted)));

        using Socket second = await AcceptAfter(out Task<WorkerSocketStream> connecting, Endpoint);
        using WorkerSocketStream other = await connecting;
        var dropped = new SocketPipeWriter(other);
        dropped.Write("dropped"u8);
        dropped.Complete(new IOException("abandoned"));
        other.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await second.ReceiveAsync(received, Aborted));
    });

    private static string Text(ReadOnlySequence<byte> buffer) => Encoding.ASCII.GetString(buffer.ToArray());

    private static async Task<ReadResult> ReadAsync(PipeReader input) =>
        await input.ReadAsync(Aborted).AsTask().WaitAsync(Patience, Aborted);
}
