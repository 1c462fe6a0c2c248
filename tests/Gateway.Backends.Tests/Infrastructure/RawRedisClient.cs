using System.Net.Sockets;
using System.Text;

namespace Gateway.Backends.Tests;

/// <summary>A bare RESP2 socket client: what Redis itself sends, byte for byte, to compare our replies against.</summary>
public sealed class RawRedisClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _buffered = [];

    private RawRedisClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawRedisClient> ConnectAsync(int port)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        return new RawRedisClient(client);
    }

    public static byte[] Command(params string[] arguments) => Command(arguments.Select(Encoding.UTF8.GetBytes).ToArray());

    public static byte[] Command(params byte[][] arguments)
    {
        var output = new MemoryStream();
        output.Write(Encoding.ASCII.GetBytes($"*{arguments.Length}\r\n"));
        foreach (var argument in arguments)
        {
            output.Write(Encoding.ASCII.GetBytes($"${argument.Length}\r\n"));
            output.Write(argument);
            output.Write("\r\n"u8);
        }

        return output.ToArray();
    }

    public Task<byte[]> SendAsync(params string[] arguments) => SendRawAsync(Command(arguments));

    public async Task<byte[]> SendRawAsync(byte[] command)
    {
        await _stream.WriteAsync(command);
        return await ReadReplyAsync();
    }

    public async Task<byte[]> ReadReplyAsync()
    {
        var chunk = new byte[65536];
        while (true)
        {
            var length = ReplyLength(_buffered.ToArray(), 0);
            if (length > 0)
            {
                var reply = _buffered.GetRange(0, length).ToArray();
                _buffered.RemoveRange(0, length);
                return reply;
            }

            var read = await _stream.ReadAsync(chunk);
            if (read == 0)
            {
                throw new IOException("connection closed");
            }

            _buffered.AddRange(chunk.AsSpan(0, read));
        }
    }

    /// <summary>Length of the complete reply starting at <paramref name="offset"/>, or -1 if more bytes are needed.</summary>
    private static int ReplyLength(byte[] buffer, int offset)
    {
        var lineEnd = buffer.AsSpan(offset).IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            return -1;
        }

        var header = Encoding.ASCII.GetString(buffer, offset + 1, lineEnd - 1);
        var afterHeader = offset + lineEnd + 2;
        switch ((char)buffer[offset])
        {
            case '$':
                var n = int.Parse(header);
                if (n < 0)
                {
                    return afterHeader - offset;
                }

                return buffer.Length >= afterHeader + n + 2 ? afterHeader + n + 2 - offset : -1;
            case '*':
                var count = int.Parse(header);
                var position = afterHeader;
                for (var i = 0; i < count; i++)
                {
                    var element = ReplyLength(buffer, position);
                    if (element < 0)
                    {
                        return -1;
                    }

                    position += element;
                }

                return position - offset;
            default:
                return afterHeader - offset;
        }
    }

    public void Dispose() => _client.Dispose();
}
