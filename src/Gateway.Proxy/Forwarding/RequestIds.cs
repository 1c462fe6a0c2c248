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
        return Convert.ToHexStringLower(bytes);
    }
}
