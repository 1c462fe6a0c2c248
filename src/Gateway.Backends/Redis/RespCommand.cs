using System.Buffers;
using System.Buffers.Text;
using System.Collections.Frozen;
using System.Text;

namespace Gateway.Backends;

/// <summary>
/// A plugin's Redis command (ABI §10.3/§10.4): exactly one RESP array of bulk strings, no inline
/// commands, no pipelining, and none of the commands that would change the state of the shared
/// connection or the server.
/// </summary>
internal static class RespCommand
{
    // Limits from redis.conf defaults (proto-max-bulk-len 512 MB); arguments are also bounded by the query length.
    private const int MaxArguments = 1024 * 1024;
    private const long MaxBulkLength = 512L * 1024 * 1024;

    private static readonly FrozenSet<string> Denied = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
    [
        "AUTH", "HELLO", "SELECT", "CONFIG", "FLUSHALL", "FLUSHDB", "SHUTDOWN", "MONITOR",
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
        "QUIT", "RESET", "CLIENT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "READONLY", "READWRITE",
        "SYNC", "PSYNC", "REPLICAOF", "SLAVEOF", "DEBUG", "ACL", "MODULE", "SAVE", "BGSAVE", "BGREWRITEAOF",
        "FAILOVER", "CLUSTER", "SWAPDB", "MOVE", "MIGRATE", "FUNCTION",
        "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF",
    ]);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> DeniedLookup = Denied.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Checks the framing and the command policy without allocating the arguments.</summary>
    public static bool TryReadFrame(ReadOnlySpan<byte> resp, out int count, out string? error)
    {
        var reader = new Reader(resp);
        if (!reader.TryReadLength((byte)'*', out var arrayLength) || arrayLength < 1 || arrayLength > MaxArguments)
        {
            count = 0;
            error = "query must be one RESP array of bulk strings";
            return false;
        }

        count = (int)arrayLength;
        ReadOnlySpan<byte> name = default, subcommand = default;
        var blockOption = false;
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadBulk(out var argument))
            {
                error = "query must be one RESP array of bulk strings";
                return false;
            }

            if (i == 0)
            {
                name = argument;
            }
            else if (i == 1)
            {
                subcommand = argument;
            }

            blockOption |= i > 0 && Ascii.EqualsIgnoreCase(argument, "BLOCK"u8);
        }

        if (!reader.AtEnd)
        {
            error = "query must hold exactly one command (no pipelining)";
            return false;
        }

        if (IsDenied(name, subcommand, blockOption))
        {
            error = "command is not allowed";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// ABI §10.4: never AUTH/HELLO/SELECT/CONFIG/FLUSH*/SHUTDOWN/MONITOR/SUBSCRIBE-family or other
    /// connection-state commands. Blocking commands are denied too: on a multiplexed connection
    /// they would stall every other worker's calls behind them.
    /// </summary>
    private static bool IsDenied(ReadOnlySpan<byte> name, ReadOnlySpan<byte> subcommand, bool blockOption)
    {
        Span<char> chars = stackalloc char[16];
        if (name.Length > chars.Length || Ascii.ToUtf16(name, chars, out var written) != OperationStatus.Done)
        {
            return false; // longer than any denied name, or not ASCII: Redis answers an unknown command with an error reply
        }

        var key = chars[..written];
        if (DeniedLookup.Contains(key))
        {
            return true;
        }

        if (key.Equals("SCRIPT", StringComparison.OrdinalIgnoreCase))
        {
            // LOAD and EXISTS serve EVALSHA; FLUSH and KILL reach beyond this plugin.
            return !(Ascii.EqualsIgnoreCase(subcommand, "LOAD"u8) || Ascii.EqualsIgnoreCase(subcommand, "EXISTS"u8));
        }

        return blockOption && (key.Equals("XREAD", StringComparison.OrdinalIgnoreCase) || key.Equals("XREADGROUP", StringComparison.OrdinalIgnoreCase));
    }

    private ref struct Reader(ReadOnlySpan<byte> buffer)
    {
        private ReadOnlySpan<byte> _rest = buffer;

        public readonly bool AtEnd => _rest.IsEmpty;

        public bool TryReadLength(byte prefix, out long length)
        {
            length = 0;
            if (_rest.Length < 4 || _rest[0] != prefix)
            {
                return false;
            }

            var end = _rest.IndexOf("\r\n"u8);
            var digits = end < 0 ? default : _rest[1..end];
            // Only plain decimal digits: no sign, no spaces, no leading '+' (RESP2 length prefix).
            if (digits.IsEmpty || digits.Length > 10 || digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0
                || !Utf8Parser.TryParse(digits, out length, out var consumed) || consumed != digits.Length)
            {
                return false;
            }

            _rest = _rest[(end + 2)..];
            return true;
        }

        public bool TryReadBulk(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!TryReadLength((byte)'$', out var length) || length > MaxBulkLength || length + 2 > _rest.Length)
            {
                return false;
            }

            var n = (int)length;
            if (_rest[n] != '\r' || _rest[n + 1] != '\n')
            {
                return false;
            }

            value = _rest[..n];
            _rest = _rest[(n + 2)..];
            return true;
        }
    }
}
