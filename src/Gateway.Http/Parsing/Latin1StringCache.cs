using System.Buffers.Binary;
using System.Text;

namespace Gateway.Http.Parsing;

/// <summary>
/// A small per-thread, lossy cache from validated header bytes to strings, so a keep-alive client that repeats
/// its targets and header values costs no allocation in steady state. Workers are fixed threads (docs/design.md, 'Workers'), so
/// the cache needs no lock. It is bounded: a fixed number of slots, short entries only. Sets of four entries keep a
/// few strings of one request that hash alike from evicting each other on every request; a miss evicts the oldest
/// entry of its set.
/// The set is chosen by a cheap hash of the length and the first and last eight bytes: values that share them only
/// share a set, and the worst a peer can do with many such values is miss, which costs what no cache would.
/// Only ASCII entries are ever hits (<see cref="Ascii.Equals(ReadOnlySpan{byte}, ReadOnlySpan{char})"/>); obs-text
/// values are decoded with Latin-1 every time so their octets survive one-to-one (NET-2).
/// </summary>
public sealed class Latin1StringCache
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
        Span<string?> set = _slots.AsSpan((int)(SetOf(bytes) * Ways), Ways);
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

    private static uint SetOf(ReadOnlySpan<byte> bytes)
    {
        ulong head;
        ulong tail;
        if (bytes.Length >= sizeof(ulong))
        {
            head = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            tail = BinaryPrimitives.ReadUInt64LittleEndian(bytes[^sizeof(ulong)..]);
        }
        else
        {
            head = 0;
            foreach (byte b in bytes)
            {
                head = (head << 8) | b;
            }
            tail = 0;
        }
        ulong mixed = ((head * 0x9E3779B97F4A7C15UL) ^ tail ^ (ulong)bytes.Length) * 0xBF58476D1CE4E5B9UL;
        return (uint)(mixed >> 40) % SetCount;
    }
}
