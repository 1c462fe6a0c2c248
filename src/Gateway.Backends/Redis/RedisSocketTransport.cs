using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Gateway.Http.Transport;
using RESPite.Transports;

// The client's transport seam is marked experimental (SER009): the package version is pinned in
// Directory.Packages.props, and the Redis suites exercise this transport against real servers on every run.
#pragma warning disable SER009

namespace Gateway.Backends.Redis;

/// <summary>
/// The byte transport under a plain-TCP Redis connection, owned by the gateway instead of the client library's own
/// socket threads. The connection lives on an event loop of the gateway's (<see cref="SocketHomes"/>: a worker), whose
/// epoll reads the replies and hands them to the client's parser right there, so a reply resumes a plugin of that
/// worker on its thread, with no hand-off. Commands are sent from the thread that issues them (a worker), with a
/// non-blocking send; only when the socket is full does the rest wait, on the connection's loop, for room.
/// <para>
/// The client stages each command with <see cref="GetMemory"/> and <see cref="Advance"/> and then calls
/// <see cref="Flush"/>, all under its single-writer lock. A flush sends the staged bytes; while a send that had to
/// wait for the socket is still in progress, later flushes queue their bytes behind it, in order.
/// </para>
/// </summary>
internal sealed class RedisSocketTransport : DuplexTransport
{
    private const int ReceiveBufferBytes = 16 * 1024;

    private readonly WorkerSocketStream _stream;
    private readonly WorkerLoop _home;
    private readonly object _gate = new();
    // Written only under the client's single-writer lock: staged by GetMemory/Advance, swapped out by Flush.
    private ArrayBufferWriter<byte> _staged = new(4096);
    private ArrayBufferWriter<byte> _queued = new(4096);
    private ArrayBufferWriter<byte> _sending = new(4096);
    private bool _sendInProgress;
    private volatile bool _disposed;

    private RedisSocketTransport(WorkerSocketStream stream, WorkerLoop home)
    {
        _stream = stream;
        _home = home;
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/> (an IP or a DNS name) within <paramref name="timeoutMs"/>, on
    /// <paramref name="home"/>'s epoll.
    /// </summary>
    public static async Task<RedisSocketTransport> ConnectAsync(EndPoint endpoint, WorkerLoop home, int timeoutMs, CancellationToken cancellation)
    {
        DnsEndPoint target = endpoint switch
        {
            DnsEndPoint name => name,
            IPEndPoint address => new DnsEndPoint(address.Address.ToString(), address.Port),
            _ => throw new ArgumentException($"cannot connect to {endpoint}", nameof(endpoint)),
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(Math.Max(1, timeoutMs));
        WorkerSocketStream stream = await home.RunAsync(() => WorkerSocketStream.ConnectAsync(target, home, timeout.Token)).ConfigureAwait(false);
        stream.Socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        return new RedisSocketTransport(stream, home);
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

        int sent;
        lock (_gate)
        {
            if (_sendInProgress)
            {
                _queued.Write(_staged.WrittenSpan);
                _staged.ResetWrittenCount();
                return false;
            }

            // Nothing waits for the socket, so the send buffer is empty: the staged one becomes it, without a copy.
            (_staged, _sending) = (_sending, _staged);
            sent = SendNow(_sending.WrittenSpan);
            if (sent == _sending.WrittenCount)
            {
                _sending.ResetWrittenCount();
                return true;
            }

            _sendInProgress = true;
        }

        // The socket is full: the rest waits for room on the connection's loop, and later flushes queue behind it.
        _ = SendRestAsync(sent);
        return true;
    }

    public override void Start(TransportReceiver receiver) => _home.Post(() => _ = ReceiveAsync(receiver));

    public override ValueTask DisposeAsync()
    {
        _disposed = true;
        _stream.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A non-blocking send from the calling thread; how much the socket took. A broken connection takes nothing: the
    /// receive loop sees it and reports it.
    /// </summary>
    private int SendNow(ReadOnlySpan<byte> data)
    {
        int sent = 0;
        try
        {
            while (sent < data.Length)
            {
                int n = _stream.Socket.Send(data[sent..], SocketFlags.None, out SocketError error);
                if (error != SocketError.Success)
                {
                    return error == SocketError.WouldBlock ? sent : data.Length;
                }
                sent += n;
            }
        }
        catch (ObjectDisposedException)
        {
            return data.Length;
        }
        return sent;
    }

    /// <summary>
    /// Sends the rest of <see cref="_sending"/> from <paramref name="offset"/> on the connection's loop, where the socket
    /// reports room, then what the flushes queued meanwhile, a round at a time.
    /// </summary>
    private async Task SendRestAsync(int offset)
    {
        try
        {
            await _home.RunAsync(async () =>
            {
                while (true)
                {
                    await _stream.WriteAsync(_sending.WrittenMemory[offset..]).ConfigureAwait(false);
                    offset = 0;
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
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The receive loop sees the broken connection and reports it; nothing more can be sent.
            _stream.Dispose();
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
                // Completed on the connection's loop, where the client's parser then runs.
                int received = await _stream.ReadAsync(buffer.AsMemory()).ConfigureAwait(false);
                if (received == 0 || !receiver.OnReceived(buffer.AsSpan(0, received)))
                {
                    break;
                }

                receiver.OnBatchEnd();
            }
        }
        catch (Exception e)
        {
            // Whatever ended the loop (the network, or the client's parser), the client must hear the connection closed.
            fault = e;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _stream.Dispose();
        if (!_disposed)
        {
            // Closed by Redis or the network, not by the client: it records the failure and reconnects.
            receiver.OnClosed(fault);
        }
    }
}
