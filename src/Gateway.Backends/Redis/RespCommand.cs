using System.Buffers.Text;

namespace Gateway.Backends.Redis;

/// <summary>
/// A plugin's Redis command, parsed strictly: exactly one RESP array of bulk strings, nothing after it, every
/// length plain decimal without a sign or a leading zero. Redis closes the connection on a malformed length, so
/// anything it might reject that way is refused here, before a socket is touched.
/// </summary>
internal sealed class RespCommand
{
    // Redis's own bounds (proto-max-bulk-len defaults to 512 MB); a query is also bounded by guest memory.
    private const int MaxArguments = 1024 * 1024;
    private const long MaxBulkLength = 512L * 1024 * 1024;

    private readonly byte[] _resp;
    private readonly Range[] _arguments;

    private RespCommand(byte[] resp, Range[] arguments)
    {
        _resp = resp;
        _arguments = arguments;
    }

    /// <summary>The command exactly as the plugin wrote it.</summary>
    public ReadOnlyMemory<byte> Resp => _resp;

    public int Count => _arguments.Length;

    public ReadOnlySpan<byte> this[int index] => _resp.AsSpan(_arguments[index]);

    public ReadOnlyMemory<byte> Memory(int index) => _resp.AsMemory(_arguments[index]);

    /// <summary>Null when <paramref name="resp"/> is not exactly one well-formed RESP array of bulk strings.</summary>
    public static RespCommand? Parse(byte[] resp)
    {
        ReadOnlySpan<byte> rest = resp;
        if (!TryReadLength(ref rest, (byte)'*', out long count) || count < 1 || count > MaxArguments)
        {
            return null;
        }

        var arguments = new Range[(int)count];
        for (var i = 0; i < arguments.Length; i++)
        {
            if (!TryReadLength(ref rest, (byte)'$', out long length) || length > MaxBulkLength || length + 2 > rest.Length)
            {
                return null;
            }

            var n = (int)length;
            if (rest[n] != '\r' || rest[n + 1] != '\n')
            {
                return null;
            }

            int start = resp.Length - rest.Length;
            arguments[i] = new Range(start, start + n);
            rest = rest[(n + 2)..];
        }

        // Anything after the array would be a second, pipelined command.
        return rest.IsEmpty ? new RespCommand(resp, arguments) : null;
    }

    /// <summary>A prefix byte, then "0" or a decimal without leading zero, then CRLF.</summary>
    private static bool TryReadLength(ref ReadOnlySpan<byte> rest, byte prefix, out long length)
    {
        length = 0;
        if (rest.Length < 4 || rest[0] != prefix)
        {
            return false;
        }

        int end = rest.IndexOf("\r\n"u8);
        if (end < 2 || end > 11)
        {
            return false;
        }

        var digits = rest[1..end];
        if (digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0 || (digits[0] == '0' && digits.Length > 1)
            || !Utf8Parser.TryParse(digits, out length, out int consumed) || consumed != digits.Length)
        {
            return false;
        }

        rest = rest[(end + 2)..];
        return true;
    }
}
