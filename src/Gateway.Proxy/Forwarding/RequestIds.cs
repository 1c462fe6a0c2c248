namespace Gateway.Proxy.Forwarding;

/// <summary>
/// New X-Request-Id values: 32 lowercase hex digits, as a random UUID prints. They correlate log lines, so they need
/// to be unique, not unguessable: the runtime's per-thread generator (seeded once from the OS) makes them without the
/// read of the kernel's random device that <see cref="Guid.NewGuid"/> costs on every request.
/// </summary>
internal static class RequestIds
{
    public const int Digits = 32;

    /// <summary>Writes a new id into <paramref name="digits"/> (<see cref="Digits"/> bytes) as ASCII.</summary>
    public static void Write(Span<byte> digits)
    {
        Span<byte> bytes = stackalloc byte[Digits / 2];
        Random.Shared.NextBytes(bytes);
        // Version 4 (the 13th digit) and variant 1 (the 17th), as a random UUID has them, printed in byte order.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        Convert.TryToHexStringLower(bytes, digits, out _);
    }
}
