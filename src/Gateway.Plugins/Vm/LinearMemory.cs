using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// A guest's linear memory as one import sees it: where it starts and how long it is, read once, so each bounds-checked
/// access by an import costs a compare rather than two calls into the runtime. Valid until the guest runs
/// again, which may grow the memory: an import that calls into the guest (its allocator) takes a new one after.
/// </summary>
internal readonly unsafe struct LinearMemory
{
    private readonly byte* _start;

    public LinearMemory(Memory memory)
    {
        _start = (byte*)memory.GetPointer();
        Length = memory.GetLength();
    }

    public long Length { get; }

    /// <summary>The bytes at [<paramref name="pointer"/>, +<paramref name="length"/>), which the caller has checked against <see cref="Length"/>.</summary>
    public Span<byte> Slice(uint pointer, int length) => new(_start + pointer, length);
}
