using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Testing;

/// <summary>A request as the upstream received it: the raw head bytes and the decoded body.</summary>
public sealed record ReceivedRequest(string Head, byte[] Body, int ConnectionId)
{
    public string RequestLine => Head[..Head.IndexOf("\r\n", StringComparison.Ordinal)];

    /// <summary>The value of the first field named <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? Header(string name)
    {
        foreach (string line in Head.Split("\r\n").Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return null;
    }
}

/// <summary>
/// A real HTTP/1.1 upstream on a loopback port for functional tests. It records the raw bytes of every
/// request it gets (rules doc: the most useful fixture), and answers each with what the test's responder
/// writes. Its request parsing is deliberately simple: it only ever sees what the gateway produced.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    public delegate Task Responder(ReceivedRequest request, NetworkStream stream);

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly Responder _respond;
    private readonly List<Socket> _sockets = [];
    private int _connections;
    private int _ended;

    public TestUpstream(Responder? respond = null, int port = 0)
    {
        _respond = respond ?? OkAsync;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>
    /// Connections whose stream ended where the next head would start: the client closed them between requests (or the
    /// test did, with <see cref="DropConnections"/> or in its responder).
    /// </summary>
    public int EndedConnections => Volatile.Read(ref _ended);

    public static Task OkAsync(ReceivedRequest request, NetworkStream stream) =>
        WriteAsync(stream, "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello");

    public static Task WriteAsync(NetworkStream stream, string response) => stream.WriteAsync(Encoding.Latin1.GetBytes(response)).AsTask();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            lock (_sockets)
            {
                _sockets.Add(socket);
            }
            int id = Interlocked.Increment(ref _connections);
            _ = ServeAsync(socket, id);
        }
    }

    private async Task ServeAsync(Socket socket, int id)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = new ByteReader(stream);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                string? head = await reader.ReadHeadAsync(_stop.Token);
                if (head is null)
                {
                    Interlocked.Increment(ref _ended);
                    return;
                }
                byte[] body = await ReadBodyAsync(reader, head);
                var request = new ReceivedRequest(head, body, id);
                Requests.Enqueue(request);
                await _respond(request, stream);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task<byte[]> ReadBodyAsync(ByteReader reader, string head)
    {
        var probe = new ReceivedRequest(head, [], 0);
        if (probe.Header("content-length") is { } cl)
        {
            return await reader.ReadExactlyAsync(int.Parse(cl));
        }
        if (probe.Header("transfer-encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            using var body = new MemoryStream();
            while (true)
            {
                string sizeLine = await reader.ReadLineAsync();
                int size = Convert.ToInt32(sizeLine.Split(';')[0], 16);
                if (size == 0)
                {
                    while ((await reader.ReadLineAsync()).Length > 0)
                    {
                    }
                    return body.ToArray();
                }
                body.Write(await reader.ReadExactlyAsync(size));
                await reader.ReadLineAsync();
            }
        }
        return [];
    }

    /// <summary>Closes every connection the upstream holds (to test stale pooled connections).</summary>
    public void DropConnections()
    {
        lock (_sockets)
        {
            foreach (var s in _sockets)
            {
                try
                {
                    s.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            }
            _sockets.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        DropConnections();
        await _acceptLoop;
        _stop.Dispose();
    }
}

/// <summary>Buffered byte reading for the simple HTTP code of the test fixtures.</summary>
public sealed class ByteReader(Stream stream)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public async Task<string?> ReadHeadAsync(CancellationToken ct = default)
    {
        var head = new StringBuilder();
        while (true)
        {
            string? line = await TryReadLineAsync(ct);
            if (line is null)
            {
                return head.Length == 0 ? null : throw new IOException("connection closed inside a head");
            }
            head.Append(line).Append("\r\n");
            if (line.Length == 0)
            {
                return head.ToString();
            }
        }
    }

    public async Task<string> ReadLineAsync(CancellationToken ct = default) =>
        await TryReadLineAsync(ct) ?? throw new IOException("connection closed");

    public async Task<byte[]> ReadExactlyAsync(long count, CancellationToken ct = default)
    {
        var result = new byte[count];
        long done = 0;
        while (done < count)
        {
            if (_start == _end && !await FillAsync(ct))
            {
                throw new IOException("connection closed inside a body");
            }
            int n = (int)Math.Min(count - done, _end - _start);
            Array.Copy(_buffer, _start, result, done, n);
            _start += n;
            done += n;
        }
        return result;
    }

    /// <summary>Reads and discards <paramref name="count"/> bytes, returning how many arrived before EOF.</summary>
    public async Task<long> SkipAsync(long count, CancellationToken ct = default)
    {
        long done = 0;
        while (done < count)
        {
            if (_start == _end && !await FillAsync(ct))
            {
                return done;
            }
            int n = (int)Math.Min(count - done, _end - _start);
            _start += n;
            done += n;
        }
        return done;
    }

    public async Task<byte[]> ReadToEndAsync(CancellationToken ct = default)
    {
        using var all = new MemoryStream();
        while (true)
        {
            if (_start == _end && !await FillAsync(ct))
            {
                return all.ToArray();
            }
            all.Write(_buffer, _start, _end - _start);
            _start = _end;
        }
    }

    private async Task<string?> TryReadLineAsync(CancellationToken ct)
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_start == _end && !await FillAsync(ct))
            {
                return null;
            }
            byte b = _buffer[_start++];
            if (b == '\n')
            {
                if (line.Length > 0 && line[^1] == '\r')
                {
                    line.Length--;
                }
                return line.ToString();
            }
            line.Append((char)b);
        }
    }

    private async Task<bool> FillAsync(CancellationToken ct)
    {
        _start = 0;
        _end = await stream.ReadAsync(_buffer, ct);
        return _end > 0;
    }
}
