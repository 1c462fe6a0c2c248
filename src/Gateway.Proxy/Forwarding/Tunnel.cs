using System.Buffers;
using System.IO.Pipelines;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// An upgraded connection pair after a 101 (UP-5): bytes stream both ways, opaque, until either side closes or
/// nothing moves for the idle timeout; then both connections close (the upstream one is never pooled again).
/// Plugins do not see these bytes: body callbacks belong to HTTP messages, and a tunnel carries none.
/// </summary>
internal sealed class Tunnel
{
    private readonly CancellationTokenSource _stop = new();
    private long _lastActivity = Environment.TickCount64;

    public long BytesUpstream { get; private set; }

    public long BytesDownstream { get; private set; }

    /// <summary>Relays until the tunnel ends; says which side or timer ended it.</summary>
    public async Task<TunnelEnd> RunAsync(PipeReader clientIn, PipeWriter clientOut, PipeReader upstreamIn, PipeWriter upstreamOut, int idleTimeoutMs)
    {
        Task up = CopyAsync(clientIn, upstreamOut, upstream: true);
        Task down = CopyAsync(upstreamIn, clientOut, upstream: false);
        TunnelEnd end;
        try
        {
            while (true)
            {
                long idle = Environment.TickCount64 - Volatile.Read(ref _lastActivity);
                if (idle >= idleTimeoutMs)
                {
                    end = TunnelEnd.IdleTimeout;
                    break;
                }
                Task first = await Task.WhenAny(up, down, Task.Delay((int)(idleTimeoutMs - idle), _stop.Token));
                if (first == up)
                {
                    end = up.IsFaulted ? TunnelEnd.Error : TunnelEnd.ClientClosed;
                    break;
                }
                if (first == down)
                {
                    end = down.IsFaulted ? TunnelEnd.Error : TunnelEnd.UpstreamClosed;
                    break;
                }
            }
        }
        finally
        {
            _stop.Cancel();
        }
        try
        {
            await Task.WhenAll(up, down);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // The side still relaying was stopped; its error says nothing more.
        }
        _stop.Dispose();
        return end;
    }

    private async Task CopyAsync(PipeReader from, PipeWriter to, bool upstream)
    {
        // Yield first: both directions start before either blocks the caller's loop.
        await Task.Yield();
        CancellationToken stop = _stop.Token;
        while (true)
        {
            ReadResult read = await from.ReadAsync(stop);
            long length = read.Buffer.Length;
            foreach (ReadOnlyMemory<byte> segment in read.Buffer)
            {
                to.Write(segment.Span);
            }
            from.AdvanceTo(read.Buffer.End);
            if (length > 0)
            {
                Volatile.Write(ref _lastActivity, Environment.TickCount64);
                if (upstream)
                {
                    BytesUpstream += length;
                }
                else
                {
                    BytesDownstream += length;
                }
                FlushResult flushed = await to.FlushAsync(stop);
                if (flushed.IsCompleted)
                {
                    return;
                }
                Volatile.Write(ref _lastActivity, Environment.TickCount64);
            }
            if (read.IsCompleted || read.IsCanceled)
            {
                return;
            }
        }
    }
}
