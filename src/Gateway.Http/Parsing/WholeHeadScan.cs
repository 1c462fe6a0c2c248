using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>
/// The scanner's fast path for the usual head: one that arrived whole, in one span, and breaks none of the scanner's
/// rules. Sixteen octets at a time, it finds the LFs, checks that each follows a CR (G-1) and stops at the first empty
/// line, instead of a search per line. It only ever says yes to a head the line-by-line scan also accepts, with the
/// same length; for anything else (no end yet, a bare LF, a CR or LF opening the head, a limit that could be reached)
/// it says no and that scan decides, so each rejection keeps the rule and the position it has there.
/// </summary>
internal static class WholeHeadScan
{
    private const int Width = 16;

    /// <param name="maxLength">A head at most this long cannot break a line or section limit; a longer one is not taken.</param>
    /// <param name="maxFieldCount">Most field lines allowed.</param>
    /// <param name="headLength">Bytes from the start line through the final CRLF.</param>
    public static bool TryFind(ReadOnlySpan<byte> bytes, int maxLength, int maxFieldCount, out int headLength)
    {
        headLength = 0;
        if (bytes.Length < 4 || bytes[0] is CR or LF)
        {
            return false;
        }
        ref byte start = ref MemoryMarshal.GetReference(bytes);
        var lfs = Vector128.Create(LF);
        var crs = Vector128.Create(CR);
        int lines = 0;
        // LFs at the two positions before the chunk: an empty line may straddle two chunks.
        uint carried = 0;
        int at = 1;
        for (; at + Width <= bytes.Length && at <= maxLength; at += Width)
        {
            uint lf = Vector128.Equals(Vector128.LoadUnsafe(ref start, (nuint)at), lfs).ExtractMostSignificantBits();
            if (lf == 0)
            {
                carried = 0;
                continue;
            }
            uint crBefore = Vector128.Equals(Vector128.LoadUnsafe(ref start, (nuint)(at - 1)), crs).ExtractMostSignificantBits();
            uint bare = lf & ~crBefore;
            // An empty line ends at an LF whose position less two holds an LF too.
            uint ends = lf & ((lf << 2) | carried);
            if (ends != 0)
            {
                int end = BitOperations.TrailingZeroCount(ends);
                uint through = (2u << end) - 1;
                if ((bare & through) != 0)
                {
                    return false;
                }
                return Found(at + end + 1, lines + BitOperations.PopCount(lf & through), maxLength, maxFieldCount, out headLength);
            }
            if (bare != 0)
            {
                return false;
            }
            lines += BitOperations.PopCount(lf);
            carried = lf >> (Width - 2);
        }
        // The rest, fewer than sixteen octets, one at a time.
        for (; at < bytes.Length && at <= maxLength; at++)
        {
            if (bytes[at] != LF)
            {
                continue;
            }
            if (bytes[at - 1] != CR)
            {
                return false;
            }
            lines++;
            if (bytes[at - 2] == LF)
            {
                return Found(at + 1, lines, maxLength, maxFieldCount, out headLength);
            }
        }
        return false;
    }

    /// <param name="lines">LF-ended lines in the head: the start line, the fields and the empty line.</param>
    private static bool Found(int length, int lines, int maxLength, int maxFieldCount, out int headLength)
    {
        headLength = length;
        return length <= maxLength && lines - 2 <= maxFieldCount;
    }
}
