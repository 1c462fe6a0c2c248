using System.Net.Sockets;
using System.Text;

namespace Gateway.Testing;

/// <summary>A response as a client saw it.</summary>
public sealed record ClientResponse(int Status, string Head, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => new ReceivedRequest(Head, [], 0).Header(name);

    public bool Closes => Header("connection")?.Contains("close", StringComparison.OrdinalIgnoreCase) == true;
}

/// <summary>A client over a raw TCP connection: sends exact bytes, reads responses by their framing.</summary>
public sealed class RawClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly ByteReader _reader;

    public RawClient(int port)
    {
        _tcp = new TcpClient { NoDelay = true };
        _tcp.Connect("127.0.0.1", port);
        _stream = _tcp.GetStream();
        _reader = new ByteReader(_stream);
    }

    public NetworkStream Stream => _stream;

    public Task SendAsync(string raw) => _stream.WriteAsync(Encoding.Latin1.GetBytes(raw)).AsTask();

    public Task SendAsync(byte[] raw) => _stream.WriteAsync(raw).AsTask();

    public static string Get(string path = "/", string host = "a.test", string extra = "") =>
        $"GET {path} HTTP/1.1\r\nhost: {host}\r\n{extra}\r\n";

    /// <summary>Reads one response (skipping 1xx unless asked), or null if the connection closed first.</summary>
    public async Task<ClientResponse?> ReadResponseAsync(bool headOnly = false, bool keepInterim = false, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            string? head;
            try
            {
                head = await _reader.ReadHeadAsync(cts.Token);
            }
            catch (IOException)
            {
                return null;
            }
            if (head is null)
            {
                return null;
            }
            int status = int.Parse(head.Split(' ')[1]);
            if (status < 200 && !keepInterim)
            {
                continue;
            }
            var response = new ClientResponse(status, head, []);
            if (headOnly || status is 204 or 304 || status < 200)
            {
                return response;
            }
            if (response.Header("content-length") is { } cl)
            {
                return response with { Body = await _reader.ReadExactlyAsync(long.Parse(cl), cts.Token) };
            }
            if (response.Header("transfer-encoding") is not null)
            {
                using var body = new MemoryStream();
                while (true)
                {
                    int size = Convert.ToInt32((await _reader.ReadLineAsync(cts.Token)).Split(';')[0], 16);
                    if (size == 0)
                    {
                        var trailers = new StringBuilder();
                        string line;
                        while ((line = await _reader.ReadLineAsync(cts.Token)).Length > 0)
                        {
                            trailers.Append(line).Append("\r\n");
                        }
                        return response with { Body = body.ToArray(), Head = head + trailers };
                    }
                    body.Write(await _reader.ReadExactlyAsync(size, cts.Token));
                    await _reader.ReadLineAsync(cts.Token);
                }
            }
            return response with { Body = await _reader.ReadToEndAsync(cts.Token) };
        }
    }

    /// <summary>True when the server has closed the connection (EOF) within the timeout.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
        try
        {
            var rest = await _reader.ReadToEndAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public ByteReader Reader => _reader;

    public void Dispose() => _tcp.Dispose();
}
