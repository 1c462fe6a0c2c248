using System.IO.Compression;

namespace Gateway.Plugins.Sandbox;

/// <summary>
/// Envoy's <c>compress</c> and <c>uncompress</c> foreign functions (zlib format, RFC 1950) with the output bounded:
/// a few kilobytes of a decompression bomb must not make the host allocate gigabytes.
/// </summary>
internal static class BoundedZlib
{
    /// <summary>The zlib stream of <paramref name="input"/>, or null when it would exceed <paramref name="maxOutput"/>.</summary>
    public static byte[]? Compress(ReadOnlySpan<byte> input, int maxOutput)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(input);
        }
        return output.Length > maxOutput ? null : output.ToArray();
    }

    /// <summary>The inflated bytes, or null as soon as they exceed <paramref name="maxOutput"/>.</summary>
    public static unsafe byte[]? Uncompress(ReadOnlySpan<byte> input, int maxOutput)
    {
        fixed (byte* pointer = input)
        {
            using var source = new UnmanagedMemoryStream(pointer, input.Length);
            using var zlib = new ZLibStream(source, CompressionMode.Decompress);
            using var output = new MemoryStream();
            byte[] block = new byte[16 * 1024];
            int read;
            while ((read = zlib.Read(block)) > 0)
            {
                if (output.Length + read > maxOutput)
                {
                    return null;
                }
                output.Write(block, 0, read);
            }
            return output.ToArray();
        }
    }
}
