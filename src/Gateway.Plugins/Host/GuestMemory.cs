using System.Buffers.Binary;
using System.Text;
using Gateway.Http.Parsing;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>
/// Bounds-checked access to a guest's linear memory (docs/proxy-wasm.md, 'Other imports' generic rules, docs/proxy-wasm.md, 'Buffers'). Every (pointer, length) is checked
/// against the size the import read (<see cref="LinearMemory"/>); a span is never kept across a guest call because memory may move when it grows.
/// </summary>
internal static class GuestMemory
{
    public static bool TryGetSpan(LinearMemory memory, int pointer, int length, out Span<byte> span)
    {
        ulong end = (ulong)(uint)pointer + (uint)length;
        if ((uint)length > int.MaxValue || end > (ulong)memory.Length)
        {
            span = default;
            return false;
        }
        span = memory.Slice((uint)pointer, length);
        return true;
    }

    public static bool TryReadBytes(LinearMemory memory, int pointer, int length, out byte[] bytes)
    {
        if (!TryGetSpan(memory, pointer, length, out var span))
        {
            bytes = [];
            return false;
        }
        bytes = span.ToArray();
        return true;
    }

    public static bool TryReadUtf8(LinearMemory memory, int pointer, int length, out string text)
    {
        if (!TryGetSpan(memory, pointer, length, out var span))
        {
            text = "";
            return false;
        }
        text = Encoding.UTF8.GetString(span);
        return true;
    }

    /// <summary>Header names and values are bytes; Latin-1 keeps every octet (docs/proxy-wasm.md, 'Header maps').</summary>
    public static bool TryReadLatin1(LinearMemory memory, int pointer, int length, out string text)
    {
        if (!TryGetSpan(memory, pointer, length, out var span))
        {
            text = "";
            return false;
        }
        // Plugins write the same few names and values on every request: the worker's cache of header strings has them.
        text = Latin1StringCache.Current.Get(span);
        return true;
    }

    /// <summary>
    /// A header name, lower-cased as the maps keep them. Names are tokens, almost always already lower case; only one
    /// with an upper-case or non-ASCII byte goes through the culture-invariant lowering.
    /// </summary>
    public static bool TryReadFieldName(LinearMemory memory, int pointer, int length, out string name)
    {
        if (!TryReadLatin1(memory, pointer, length, out name))
        {
            return false;
        }
        if (name.AsSpan().IndexOfAnyInRange('A', 'Z') >= 0 || !Ascii.IsValid(name))
        {
            name = name.ToLowerInvariant();
        }
        return true;
    }

    public static bool TryWriteUInt32(LinearMemory memory, int pointer, uint value)
    {
        if (!TryGetSpan(memory, pointer, 4, out var span))
        {
            return false;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span, value);
        return true;
    }

    public static bool TryWriteUInt64(LinearMemory memory, int pointer, ulong value)
    {
        if (!TryGetSpan(memory, pointer, 8, out var span))
        {
            return false;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span, value);
        return true;
    }

    /// <summary>
    /// Hands host bytes to the guest (docs/proxy-wasm.md, 'Buffers'): empty → 0/0 without calling the allocator; otherwise allocate in the
    /// guest, fetch memory again (the allocator may have grown it), copy, then write pointer and length.
    /// <paramref name="data"/> must be host memory, never a span of the guest's.
    /// </summary>
    public static WasmResult Return(PluginVm vm, Caller caller, ReadOnlySpan<byte> data, int dataPointer, int sizePointer)
    {
        var memory = vm.GetMemory(caller);
        if (!TryGetSpan(memory, dataPointer, 4, out _) || !TryGetSpan(memory, sizePointer, 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (data.Length == 0)
        {
            TryWriteUInt32(memory, dataPointer, 0);
            TryWriteUInt32(memory, sizePointer, 0);
            return WasmResult.Ok;
        }
        int pointer = vm.Allocate(data.Length);
        memory = vm.GetMemory(caller);
        if (pointer == 0 || !TryGetSpan(memory, pointer, data.Length, out var destination))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        data.CopyTo(destination);
        return TryWriteUInt32(memory, dataPointer, (uint)pointer) && TryWriteUInt32(memory, sizePointer, (uint)data.Length)
            ? WasmResult.Ok
            : WasmResult.InvalidMemoryAccess;
    }
}
