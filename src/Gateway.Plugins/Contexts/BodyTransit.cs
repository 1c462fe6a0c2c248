using System.Buffers;
using Gateway.Plugins.Abi;

namespace Gateway.Plugins.Contexts;

/// <summary>
/// Body bytes on their way through a plugin chain: what one plugin released goes to the next plugin's body callback,
/// and what passed every plugin is written to the proxy's writer.
/// </summary>
internal sealed class BodyTransit
{
    private readonly BodyBuffer _bytes = new();
    private IBufferWriter<byte>? _forward;

    public int Length => _bytes.Length;

    /// <summary>A phase starts with nothing in transit; what passes the chain goes to <paramref name="forward"/>.</summary>
    public void Start(IBufferWriter<byte> forward)
    {
        _bytes.Clear();
        _forward = forward;
    }

    /// <summary>A body chunk enters the chain.</summary>
    public void Start(in ReadOnlySequence<byte> chunk, IBufferWriter<byte> forward)
    {
        Start(forward);
        _bytes.Append(chunk);
    }

    /// <summary>Moves a plugin's buffered body behind what is already on its way to the next plugin.</summary>
    public void PassOn(BodyBuffer held)
    {
        if (_bytes.Length == 0)
        {
            held.MoveTo(_bytes);
            return;
        }
        _bytes.Append(held.Span);
        held.Clear();
    }

    /// <summary>A plugin's body callback takes what is in transit into its own buffer.</summary>
    public void TakeInto(BodyBuffer buffer)
    {
        buffer.Append(_bytes.Span);
        _bytes.Clear();
    }

    /// <summary>The bytes passed every plugin: they go downstream.</summary>
    public void Flush()
    {
        if (_bytes.Length > 0)
        {
            _forward!.Write(_bytes.Span);
        }
        _bytes.Clear();
    }

    public void Release() => _bytes.Release();
}
