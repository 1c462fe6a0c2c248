using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Perf.Tests.Loopback;

/// <summary>
/// A real HTTP/1.1 server on a loopback port that answers GETs as its <see cref="ServerScript"/> says and counts every
/// response it sends, so a test can hold a loader's counts against what actually went over the wire. A response is
/// counted before its first byte is written: whatever the loader counted, the server has counted already.
/// </summary>
public sealed class CountingServer : IAsyncDisposable
{
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(2);

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly ServerScript _script;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private Task? _stopped;
    private int _requests;
    private int _successes;
    private int _failures;
    private int _closes;

    public CountingServer(ServerScript script)
    {
        _script = script;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Request heads received, answered or not.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>2xx responses sent.</summary>
    public int Successes => Volatile.Read(ref _successes);

    /// <summary>Responses of any other status sent.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Responses that said <c>Connection: close</c>, each followed by the server's close.</summary>
    public int Closes => Volatile.Read(ref _closes);

    /// <summary>The values of the script's recorded header, in the order the requests arrived.</summary>
    public ConcurrentQueue<string> HeaderValues { get; } = new();

    /// <summary>
    /// Stops accepting and waits for every connection to end, which the loader's close does once the server has read
    /// what was sent before it; after it the counts are final. Connections still open past the drain limit (a loader
    /// that did not close them) are cut.
    /// </summary>
    public Task StopAsync()
    {
        lock (_connections)
        {
            _stopped ??= DrainAsync();
            return _stopped;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private async Task DrainAsync()
    {
        _listener.Dispose();
        await _accepting;
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }
        var drained = Task.WhenAll(connections);
        if (await Task.WhenAny(drained, Task.Delay(DrainLimit)) != drained)
        {
            _stopping.Cancel();
        }
        await drained;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync();
                // Each written segment goes out at once: a split response must reach the loader split.
                socket.NoDelay = true;
                lock (_connections)
                {
                    _connections.Add(ServeAsync(socket));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[16 * 1024];
            var filled = 0;
            var answered = 0;
            try
            {
                while (true)
                {
                    var headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                    if (headEnd < 0)
                    {
                        var read = filled == buffer.Length ? 0 : await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stopping.Token);
                        if (read == 0)
                        {
                            return;
                        }
                        filled += read;
                        continue;
                    }
                    var headLength = headEnd + 4;
                    Received(buffer.AsSpan(0, headLength));
                    buffer.AsSpan(headLength, filled - headLength).CopyTo(buffer);
                    filled -= headLength;
                    if (_script.Silent)
                    {
                        continue;
                    }
                    var close = _script.ClosesAfter(++answered);
                    Counted(close);
                    await SendAsync(socket, _script.Segments(close));
                    if (close)
                    {
                        return;
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The loader closed its end, or the server stopped.
            }
        }
    }

    private async Task SendAsync(Socket socket, IReadOnlyList<byte[]> segments)
    {
        for (var i = 0; i < segments.Count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(_script.PauseBetweenSegments, _stopping.Token);
            }
            await socket.SendAsync(segments[i], SocketFlags.None, _stopping.Token);
        }
    }

    private void Received(ReadOnlySpan<byte> head)
    {
        Interlocked.Increment(ref _requests);
        if (_script.RecordedHeader is { } name && HeaderValue(Encoding.ASCII.GetString(head), name) is { } value)
        {
            HeaderValues.Enqueue(value);
        }
    }

    private void Counted(bool close)
    {
        if (_script.Succeeds)
        {
            Interlocked.Increment(ref _successes);
        }
        else
        {
            Interlocked.Increment(ref _failures);
        }
        if (close)
        {
            Interlocked.Increment(ref _closes);
        }
    }

    private static string? HeaderValue(string head, string name)
    {
        foreach (var line in head.Split("\r\n"))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return null;
    }
}
