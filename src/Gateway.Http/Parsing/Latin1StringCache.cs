using System.Text;

namespace Gateway.Http.Parsing;

/// <summary>
/// A small per-thread, lossy cache from validated header bytes to strings, so a keep-alive client that repeats
/// its targets and header values costs no allocation in steady state. Workers are fixed threads (docs/design.md, 'Workers'), so
/// the cache needs no lock. It is bounded: a fixed number of slots, short entries only. Sets of four entries keep a
/// few strings of one request that hash alike from evicting each other on every request; a miss evicts the oldest
/// entry of its set.
/// Only ASCII entries are ever hits (<see cref="Ascii.Equals(ReadOnlySpan{byte}, ReadOnlySpan{char})"/>); obs-text
/// values are decoded with Latin-1 every time so their octets survive one-to-one (NET-2).
/// </summary>
internal sealed class Latin1StringCache
{
    private const int SetCount = 128;
    private const int Ways = 4;
    private const int MaxCachedLength = 256;

    [ThreadStatic]
    private static Latin1StringCache? t_current;

    private readonly string?[] _slots = new string?[SetCount * Ways];

    public static Latin1StringCache Current => t_current ??= new Latin1StringCache();

    public string Get(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return "";
        }
        if (bytes.Length > MaxCachedLength)
        {
            return Encoding.Latin1.GetString(bytes);
        }
        var hash = new HashCode();
        hash.AddBytes(bytes);
        Span<string?> set = _slots.AsSpan((int)((uint)hash.ToHashCode() % SetCount) * Ways, Ways);
        foreach (string? cached in set)
        {
            if (cached is not null && Ascii.Equals(bytes, cached))
            {
                return cached;
            }
        }
        string created = Encoding.Latin1.GetString(bytes);
        set[..^1].CopyTo(set[1..]);
        set[0] = created;
        return created;
    }
}
