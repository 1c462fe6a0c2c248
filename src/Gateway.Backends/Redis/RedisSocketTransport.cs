using System.Buffers;
using System.Net;
using System.Net.Sockets;
using RESPite.Transports;

// The client's transport seam is marked experimental (SER009): the package version is pinned in
// Directory.Packages.props, and the Redis suites exercise this transport against real servers on every run.
#pragma warning disable SER009

namespace Gateway.Backends.Redis;

/// <summary>
/// The byte transport under a plain-TCP Redis connection, owned by the gateway instead of the client library's own
/// socket threads. Commands are sent from the thread that issues them (a worker), with the send the runtime tries
/// at once before it waits for readiness; replies are received where the socket completes, the runtime's socket
/// event thread, and handed to the client's parser right there. With inline socket completions that thread is a
/// worker's event loop, so a reply resumes its plugin without a hand-off between threads.
/// <para>
/// The client stages each command with <see cref="GetMemory"/> and <see cref="Advance"/> and then calls
/// <see cref="Flush"/>, all under its single-writer lock. A flush sends the staged bytes; while a send that had to
/// wait for the socket is still in progress, later flushes queue their bytes behind it, in order.
/// </para>
/// </summary>
internal sealed class RedisSocketTransport : DuplexTransport
{
    private const int ReceiveBufferBytes = 16 * 1024;

    private readonly Socket _socket;
    private readonly object _gate = new();
    // Written only under the client's single-writer lock: staged by GetMemory/Advance, swapped out by Flush.
    private ArrayBufferWriter<byte> _staged = new(4096);
    private ArrayBufferWriter<byte> _queued = new(4096);
    private ArrayBufferWriter<byte> _sending = new(4096);
    private bool _sendInProgress;
    private volatile bool _disposed;

    private RedisSocketTransport(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>Connects to <paramref name="endpoint"/> (an IP or a DNS name) within <paramref name="timeoutMs"/>.</summary>
    public static async Task<RedisSocketTransport> ConnectAsync(EndPoint endpoint, int timeoutMs, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(Math.Max(1, timeoutMs));
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            return new RedisSocketTransport(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override Memory<byte> GetMemory(int sizeHint) => _staged.GetMemory(Math.Max(sizeHint, 1));

    public override Span<byte> GetSpan(int sizeHint) => _staged.GetSpan(Math.Max(sizeHint, 1));

    public override void Advance(int count) => _staged.Advance(count);

    /// <summary>Sends what is staged; false when it had to queue behind a send still waiting for the socket.</summary>
    public override bool Flush()
    {
        if (_staged.WrittenCount == 0)
        {
            return true;
        }

        lock (_gate)
        {
            if (_sendInProgress)
            {
                _queued.Write(_staged.WrittenSpan);
                _staged.ResetWrittenCount();
                return false;
            }

            // Nothing is being sent, so the send buffer is empty: the staged one becomes it, without a copy.
            _sendInProgress = true;
            (_staged, _sending) = (_sending, _staged);
        }

        _ = SendAsync();
        return true;
    }

    public override void Start(TransportReceiver receiver) => _ = ReceiveAsync(receiver);

    public override ValueTask DisposeAsync()
    {
        _disposed = true;
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Sends until nothing is queued; each round sends what the flushes queued meanwhile in one write.</summary>
    private async Task SendAsync()
    {
        try
        {
            while (true)
            {
                var pending = _sending.WrittenMemory;
                while (!pending.IsEmpty)
                {
                    int sent = await _socket.SendAsync(pending, SocketFlags.None).ConfigureAwait(false);
                    pending = pending[sent..];
                }

                lock (_gate)
                {
                    _sending.ResetWrittenCount();
                    if (_queued.WrittenCount == 0)
                    {
                        _sendInProgress = false;
                        return;
                    }

                    (_sending, _queued) = (_queued, _sending);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The receive loop sees the broken connection and reports it; nothing more can be sent.
            _socket.Dispose();
        }
    }

    private async Task ReceiveAsync(TransportReceiver receiver)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferBytes);
        Exception? fault = null;
        try
        {
            while (true)
            {
                int received = await _socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                if (received == 0 || !receiver.OnReceived(buffer.AsSpan(0, received)))
                {
                    break;
                }

                receiver.OnBatchEnd();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            fault = e;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _socket.Dispose();
        if (!_disposed)
        {
            // Closed by Redis or the network, not by the client: it records the failure and reconnects.
            receiver.OnClosed(fault);
        }
    }
}
