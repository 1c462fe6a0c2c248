using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Deploy.Tests;

/// <summary>
/// A real HTTP/1.1 upstream on a loopback port: answers every request with 200 and the
/// request head it received as the body, so a test sees what the gateway forwarded.
/// Requests without bodies only, which is all these tests send.
/// </summary>
internal sealed class EchoUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private int _requests;

    public EchoUpstream()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int RequestCount => Volatile.Read(ref _requests);

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                Socket socket = await _listener.AcceptSocketAsync(_stopping.Token);
                connections.Add(ServeAsync(socket));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[16384];
            int filled = 0;
            try
            {
                while (true)
                {
                    int end = IndexOfHeadEnd(buffer.AsSpan(0, filled));
                    if (end < 0)
                    {
                        int read = await socket.ReceiveAsync(buffer.AsMemory(filled), _stopping.Token);
                        if (read == 0 || (filled += read) == buffer.Length)
                        {
                            return;
                        }

                        continue;
                    }

                    Interlocked.Increment(ref _requests);
                    byte[] body = buffer[..end];
                    byte[] head = Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n");
                    await socket.SendAsync(head, _stopping.Token);
                    await socket.SendAsync(body, _stopping.Token);
                    buffer.AsSpan(end, filled - end).CopyTo(buffer);
                    filled -= end;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
            }
        }
    }

    private static int IndexOfHeadEnd(ReadOnlySpan<byte> data)
    {
        int index = data.IndexOf("\r\n\r\n"u8);
        return index < 0 ? -1 : index + 4;
    }
}
