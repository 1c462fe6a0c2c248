using System.Buffers;
using System.Runtime.CompilerServices;

namespace Gateway.Http.Paths;

/// <summary>
/// Normalizes an origin-form request target before routing so that routes, plugins and the upstream see one
/// path: percent-encoded unreserved characters are decoded and the remaining escapes upper-cased
/// (RFC 3986 §6.2.2.1–2), dot segments are removed (RFC 3986 §5.2.4, §6.2.2.3), repeated slashes merged
/// (optional), and encoded slashes and backslashes rejected, kept or decoded as configured. The query is
/// left untouched. The target has already passed the parser's octet rules (no raw backslash, valid escapes).
/// </summary>
public static class PathNormalizer
{
    /// <summary>Outcome of <see cref="Normalize"/>.</summary>
    public enum Result
    {
        /// <summary>The target was already normal; it is returned as is, without allocating.</summary>
        Unchanged,
        Changed,
        /// <summary>An encoded slash or backslash under <see cref="EscapedSlashAction.Reject"/>.</summary>
        EscapedSlash,
    }

    public static Result Normalize(string target, PathNormalization options, out string normalized)
    {
        normalized = target;
        if (target.Length == 0 || target[0] != '/')
        {
            return Result.Unchanged; // "*" (OPTIONS) has no path to normalize
        }
        int queryStart = target.IndexOf('?');
        ReadOnlySpan<char> path = queryStart < 0 ? target : target.AsSpan(0, queryStart);
        if (!NeedsWork(path, options.MergeSlashes))
        {
            return Result.Unchanged;
        }
        char[] rented = ArrayPool<char>.Shared.Rent(path.Length);
        try
        {
            // Decoding only shortens the path, so one buffer of its length holds every step.
            if (!Decode(path, options.EscapedSlashes, rented, out int decodedLength))
            {
                return Result.EscapedSlash;
            }
            int length = ResolveSegments(rented.AsSpan(0, decodedLength), options.MergeSlashes);
            ReadOnlySpan<char> result = rented.AsSpan(0, length);
            ReadOnlySpan<char> query = queryStart < 0 ? default : target.AsSpan(queryStart);
            if (result.SequenceEqual(path))
            {
                return Result.Unchanged;
            }
            normalized = string.Concat(result, query);
            return Result.Changed;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>A path without escapes, "//" or "/." is already normal: the common case costs three scans.</summary>
    private static bool NeedsWork(ReadOnlySpan<char> path, bool mergeSlashes) =>
        path.Contains('%') || path.IndexOf("/.", StringComparison.Ordinal) >= 0 || (mergeSlashes && path.IndexOf("//", StringComparison.Ordinal) >= 0);

    private static bool Decode(ReadOnlySpan<char> path, EscapedSlashAction escapedSlashes, Span<char> output, out int length)
    {
        int o = 0;
        for (int i = 0; i < path.Length; i++)
        {
            char c = path[i];
            if (c != '%' || i + 2 >= path.Length)
            {
                output[o++] = c;
                continue;
            }
            int value = (HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]);
            i += 2;
            if (IsUnreserved(value))
            {
                output[o++] = (char)value;
            }
            else if (value is '/' or '\\')
            {
                switch (escapedSlashes)
                {
                    case EscapedSlashAction.Reject:
                        length = 0;
                        return false;
                    case EscapedSlashAction.Unescape:
                        output[o++] = '/';
                        break;
                    default:
                        o = WriteEscape(output, o, value);
                        break;
                }
            }
            else
            {
                o = WriteEscape(output, o, value);
            }
        }
        length = o;
        return true;
    }

    /// <summary>
    /// Removes "." and ".." segments in place (a ".." above the root stays at the root) and, when asked, empty
    /// segments between slashes; a path that ended in a slash, "." or ".." keeps its trailing slash.
    /// </summary>
    private static int ResolveSegments(Span<char> path, bool mergeSlashes)
    {
        // Writing never overtakes reading: each segment is copied to an offset no later than its own.
        int o = 0;
        int start = 1; // path[0] is '/'
        while (true)
        {
            int end = path[start..].IndexOf('/');
            bool last = end < 0;
            end = last ? path.Length : start + end;
            ReadOnlySpan<char> segment = path[start..end];
            if (segment is ".")
            {
                // nothing to keep
            }
            else if (segment is "..")
            {
                o = Math.Max(0, path[..o].LastIndexOf('/'));
            }
            else if (segment.IsEmpty && mergeSlashes && !last)
            {
                // an empty segment between two slashes
            }
            else if (!segment.IsEmpty || !last)
            {
                path[o++] = '/';
                segment.CopyTo(path[o..]);
                o += segment.Length;
            }
            if (last)
            {
                if (segment.IsEmpty || segment is "." or "..")
                {
                    if (o == 0 || path[o - 1] != '/')
                    {
                        path[o++] = '/';
                    }
                }
                return o;
            }
            start = end + 1;
        }
    }

    private static int WriteEscape(Span<char> output, int o, int value)
    {
        output[o] = '%';
        output[o + 1] = UpperHex[value >> 4];
        output[o + 2] = UpperHex[value & 0xF];
        return o + 3;
    }

    /// <summary>RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsUnreserved(int c) =>
        (uint)((c | 0x20) - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9 || c is '-' or '.' or '_' or '~';

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private const string UpperHex = "0123456789ABCDEF";
}
