namespace Gateway.Proxy.Server;

/// <summary>
/// A client connection's stream as its request reader sees it. The reader waits for data with a zero-byte read before
/// it takes a buffer, so an idle keep-alive connection holds none; on Linux that wait costs a system call of its own
/// (a one-byte peek) on top of the read. While the connection is active (<see cref="WaitForData"/> off) the wait is
/// answered at once and the reader reads straight into a pooled buffer, as an event loop reads a socket it knows is busy.
/// </summary>
internal sealed class WaitingStream : Stream
{
    private readonly Stream _inner;

    public WaitingStream(Stream inner)
    {
        _inner = inner;
    }

    /// <summary>On: zero-byte reads reach the socket and complete when data arrives. Off: they complete at once.</summary>
    public bool WaitForData { get; set; } = true;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.IsEmpty && !WaitForData ? ValueTask.FromResult(0) : _inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => _inner.Read(buffer);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.WriteAsync(buffer, cancellationToken);

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
