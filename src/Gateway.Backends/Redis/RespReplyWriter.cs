using System.Buffers;
using System.Buffers.Text;
using System.Text;
using StackExchange.Redis;

namespace Gateway.Backends;

/// <summary>
/// Re-encodes a reply as the RESP2 bytes Redis sent (ABI §10.3): the Higress wrappers parse the
/// reply buffer with a RESP2 reader, so types keep their RESP2 form, nil stays <c>$-1</c> or
/// <c>*-1</c>, and error replies are delivered as <c>-</c> lines with status Ok.
/// </summary>
internal static class RespReplyWriter
{
    public static byte[] Encode(RedisResult result)
    {
        var output = new ArrayBufferWriter<byte>(64);
        Write(output, result);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] EncodeError(string message)
    {
        var output = new ArrayBufferWriter<byte>(message.Length + 3);
        WriteLine(output, (byte)'-', message);
        return output.WrittenSpan.ToArray();
    }

    private static void Write(ArrayBufferWriter<byte> output, RedisResult result)
    {
        switch (result.Resp2Type)
        {
            case ResultType.SimpleString:
                WriteLine(output, (byte)'+', (byte[]?)result ?? []);
                break;
            case ResultType.Error:
                WriteLine(output, (byte)'-', result.ToString() ?? string.Empty);
                break;
            case ResultType.Integer:
                WriteHeader(output, (byte)':', (long)result);
                break;
            case ResultType.Array:
                if (result.IsNull)
                {
                    WriteHeader(output, (byte)'*', -1);
                    break;
                }

                var items = (RedisResult[])result!;
                WriteHeader(output, (byte)'*', items.Length);
                foreach (var item in items)
                {
                    Write(output, item);
                }

                break;
            default:
                // Bulk strings, and anything a RESP3-only type would degrade to in RESP2.
                var bytes = (byte[]?)result;
                if (bytes is null)
                {
                    WriteHeader(output, (byte)'$', -1);
                    break;
                }

                WriteHeader(output, (byte)'$', bytes.Length);
                output.Write(bytes);
                output.Write("\r\n"u8);
                break;
        }
    }

    private static void WriteHeader(ArrayBufferWriter<byte> output, byte prefix, long value)
    {
        var span = output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out var written);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        output.Advance(written + 3);
    }

    private static void WriteLine(ArrayBufferWriter<byte> output, byte prefix, ReadOnlySpan<byte> line)
    {
        output.GetSpan(1)[0] = prefix;
        output.Advance(1);
        output.Write(line);
        output.Write("\r\n"u8);
    }

    private static void WriteLine(ArrayBufferWriter<byte> output, byte prefix, string line)
    {
        // A simple string or error line cannot hold CR or LF (RESP2); the server never sends them.
        WriteLine(output, prefix, Encoding.UTF8.GetBytes(line.ReplaceLineEndings(" ")));
    }
}
