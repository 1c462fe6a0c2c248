using System.Buffers.Binary;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// New X-Request-Id values: 32 lowercase hex digits, as a random UUID prints. They correlate log lines, so they need
/// to be unique, not unguessable: the runtime's per-thread generator (seeded once from the OS) makes them without the
/// read of the kernel's random device that <see cref="Guid.NewGuid"/> costs on every request.
/// </summary>
internal static class RequestIds
{
    public static string Next()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        // Version 4 (the 13th digit) and variant 1 (the 17th), as a random UUID has them, printed in byte order.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return string.Create(32, (BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..])),
            static (digits, halves) =>
            {
                PrintHex(halves.Item1, digits[..16]);
                PrintHex(halves.Item2, digits[16..]);
            });
    }

    private static void PrintHex(ulong value, Span<char> digits)
    {
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            digits[i] = "0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }
}
