using System.Buffers.Binary;
using System.Text;

namespace Gateway.Plugins.Abi;

/// <summary>
/// The serialized header map of docs/proxy-wasm.md, 'Header maps': <c>u32 count</c>, <c>count × (u32 key_len, u32 value_len)</c>, then every
/// key and value followed by one NUL. Values are bytes; the gateway stores them as Latin-1 strings so any octet survives.
/// </summary>
internal static class HeaderPairs
{
    /// <summary>Envoy's limits on a map coming from a guest (docs/proxy-wasm.md, 'Header maps').</summary>
    public const int MaxPairs = 1024;
    public const int MaxBytes = 1024 * 1024;

    public static int SerializedSize(IReadOnlyList<KeyValuePair<string, string>> pairs)
    {
        int size = 4;
        for (int i = 0; i < pairs.Count; i++)
        {
            size += 8 + pairs[i].Key.Length + 1 + pairs[i].Value.Length + 1;
        }
        return size;
    }

    public static void Write(IReadOnlyList<KeyValuePair<string, string>> pairs, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)pairs.Count);
        int sizes = 4;
        int data = 4 + 8 * pairs.Count;
        for (int i = 0; i < pairs.Count; i++)
        {
            string key = pairs[i].Key;
            string value = pairs[i].Value;
            BinaryPrimitives.WriteUInt32LittleEndian(destination[sizes..], (uint)key.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(sizes + 4)..], (uint)value.Length);
            sizes += 8;
            data += Encoding.Latin1.GetBytes(key, destination[data..]);
            destination[data++] = 0;
            data += Encoding.Latin1.GetBytes(value, destination[data..]);
            destination[data++] = 0;
        }
    }

    /// <summary>
    /// Parses a guest map. Accepts the three empty forms (length 0, one NUL, a zero count). Returns false when the
    /// bytes are malformed: a count or length that does not fit, a missing terminator, or trailing bytes.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, List<KeyValuePair<string, string>> pairs)
    {
        pairs.Clear();
        if (bytes.Length == 0 || (bytes.Length == 1 && bytes[0] == 0))
        {
            return true;
        }
        if (bytes.Length < 4 || bytes.Length > MaxBytes)
        {
            return false;
        }
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if (count > MaxPairs || 4 + 8L * count > bytes.Length)
        {
            return false;
        }
        int sizes = 4;
        long data = 4 + 8L * count;
        for (int i = 0; i < count; i++)
        {
            uint keyLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes[sizes..]);
            uint valueLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(sizes + 4)..]);
            sizes += 8;
            if (data + keyLength + 1 + valueLength + 1 > bytes.Length)
            {
                return false;
            }
            int keyStart = (int)data;
            if (bytes[keyStart + (int)keyLength] != 0)
            {
                return false;
            }
            int valueStart = keyStart + (int)keyLength + 1;
            if (bytes[valueStart + (int)valueLength] != 0)
            {
                return false;
            }
            pairs.Add(new KeyValuePair<string, string>(
                Encoding.Latin1.GetString(bytes.Slice(keyStart, (int)keyLength)),
                Encoding.Latin1.GetString(bytes.Slice(valueStart, (int)valueLength))));
            data = valueStart + valueLength + 1;
        }
        return data == bytes.Length;
    }
}
