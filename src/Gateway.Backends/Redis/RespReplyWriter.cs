using System.Buffers;
using System.Buffers.Text;
using System.Text;
using StackExchange.Redis;

namespace Gateway.Backends.Redis;

/// <summary>
/// Writes a reply as the RESP2 bytes Redis sent: the client decodes replies, plugins get raw RESP in buffer type 9.
/// RESP2 is what the connection speaks, so every reply maps back exactly (a nil is <c>$-1</c> or <c>*-1</c>, as sent).
/// </summary>
internal static class RespReplyWriter
{
    /// <summary>Null when the encoded reply would exceed <paramref name="maxBytes"/>: that call fails, nothing else.</summary>
    public static byte[]? Encode(RedisResult result, int maxBytes)
    {
        var output = new ArrayBufferWriter<byte>(64);
        return Write(output, result, maxBytes) ? output.WrittenSpan.ToArray() : null;
    }

    /// <summary>An error reply: '-' and the message, as Redis sent it.</summary>
    public static byte[] Error(string message)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(message) + 3];
        bytes[0] = (byte)'-';
        int written = Encoding.UTF8.GetBytes(message, bytes.AsSpan(1));
        bytes[written + 1] = (byte)'\r';
        bytes[written + 2] = (byte)'\n';
        return bytes;
    }

    private static bool Write(ArrayBufferWriter<byte> output, RedisResult result, int maxBytes)
    {
        switch (result.Resp2Type)
        {
            case ResultType.SimpleString:
                Line(output, (byte)'+', result.ToString() ?? "");
                break;
            case ResultType.Error:
                Line(output, (byte)'-', result.ToString() ?? "");
                break;
            case ResultType.Integer:
                Number(output, (byte)':', (long)result);
                break;
            case ResultType.Array:
                if (result.IsNull)
                {
                    output.Write("*-1\r\n"u8);
                    break;
                }

                var items = (RedisResult[])result!;
                Number(output, (byte)'*', items.Length);
                foreach (var item in items)
                {
                    if (!Write(output, item, maxBytes))
                    {
                        return false;
                    }
                }

                break;
            default:
                if (result.IsNull)
                {
                    output.Write("$-1\r\n"u8);
                    break;
                }

                var bytes = (byte[])result!;
                if (output.WrittenCount + (long)bytes.Length > maxBytes)
                {
                    return false;
                }

                Number(output, (byte)'$', bytes.Length);
                output.Write(bytes);
                output.Write("\r\n"u8);
                break;
        }

        return output.WrittenCount <= maxBytes;
    }

    private static void Line(ArrayBufferWriter<byte> output, byte prefix, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length) + 3);
        span[0] = prefix;
        int written = Encoding.UTF8.GetBytes(text, span[1..]);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        output.Advance(written + 3);
    }

    private static void Number(ArrayBufferWriter<byte> output, byte prefix, long value)
    {
        var span = output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out int written);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        output.Advance(written + 3);
    }
}
