namespace Gateway.Plugins.Vm;

/// <summary>
/// Function index → export name, read from the module's export section. Release builds of plugins usually carry
/// no name section, so Wasmtime's backtrace says "wasm function 12"; the export name tells an operator which
/// callback was running.
/// </summary>
internal static class ExportedFunctionNames
{
    private const byte ExportSection = 7;

    /// <summary>The exported function names by index; empty when the bytes are not a readable module.</summary>
    public static Dictionary<uint, string> Read(ReadOnlySpan<byte> module)
    {
        var names = new Dictionary<uint, string>();
        int at = 8; // magic and version
        while (at < module.Length)
        {
            byte id = module[at++];
            if (!TryLeb(module, ref at, out uint size) || size > (uint)(module.Length - at))
            {
                return names;
            }
            if (id == ExportSection)
            {
                ReadExports(module.Slice(at, (int)size), names);
                return names;
            }
            at += (int)size;
        }
        return names;
    }

    private static void ReadExports(ReadOnlySpan<byte> section, Dictionary<uint, string> names)
    {
        int at = 0;
        if (!TryLeb(section, ref at, out uint count))
        {
            return;
        }
        for (uint i = 0; i < count; i++)
        {
            if (!TryLeb(section, ref at, out uint length) || (long)length + 2 > section.Length - at)
            {
                return;
            }
            string name = System.Text.Encoding.UTF8.GetString(section.Slice(at, (int)length));
            at += (int)length;
            byte kind = section[at++];
            if (!TryLeb(section, ref at, out uint index))
            {
                return;
            }
            if (kind == 0)
            {
                names.TryAdd(index, name);
            }
        }
    }

    private static bool TryLeb(ReadOnlySpan<byte> bytes, ref int at, out uint value)
    {
        value = 0;
        for (int shift = 0; shift < 35 && at < bytes.Length; shift += 7)
        {
            byte b = bytes[at++];
            value |= (uint)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }
        return false;
    }
}
