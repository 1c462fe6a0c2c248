using System.Buffers;

namespace Gateway.Http.Transport;

/// <summary>
/// A worker's spare I/O buffers of one size. Its pipes take a buffer when bytes arrive or a response is written and
/// give it back once the bytes are consumed or sent, for every request; kept on the worker, a buffer goes out and
/// back in a few instructions, where the shared pool looks up the thread's and then the core's store each way. Only
/// the worker's own thread uses it (<see cref="WorkerLoop.IsCurrent"/>); from any other thread, and for any other
/// size, the shared pool serves as before.
/// </summary>
internal sealed class BufferShelf(int size)
{
    // About the buffers a worker's busy connections hold at once; what a burst needs beyond it goes to the GC.
    private const int MaxKept = 64;

    private readonly Slot[] _kept = new Slot[MaxKept];
    private int _count;

    public int Size { get; } = size;

    /// <summary>A buffer of at least <paramref name="length"/> bytes.</summary>
    public byte[] Take(int length, WorkerLoop loop)
    {
        if (length > Size || !loop.IsCurrent)
        {
            return ArrayPool<byte>.Shared.Rent(length);
        }
        if (_count == 0)
        {
            return GC.AllocateUninitializedArray<byte>(Size);
        }
        ref Slot slot = ref _kept[--_count];
        byte[] buffer = slot.Buffer!;
        slot.Buffer = null;
        return buffer;
    }

    /// <summary>Gives back a buffer <see cref="Take"/> handed out.</summary>
    public void Give(byte[] buffer, WorkerLoop loop)
    {
        if (buffer.Length != Size || !loop.IsCurrent)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        else if (_count < MaxKept)
        {
            _kept[_count++].Buffer = buffer;
        }
    }

    /// <summary>An array element stored without the covariance check a store into an array of arrays takes.</summary>
    private struct Slot
    {
        public byte[]? Buffer;
    }
}
