using System.IO.Pipelines;
using Gateway.Http.Messages;
using Gateway.Plugins.Contexts;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// A response head a Higress 0.2.100 plugin holds (docs/proxy-wasm.md, 'Stream control'): it is written, as the plugins
/// left it, right before the first body bytes the chain lets through, or at the end of the body. What the plugins hold
/// before that is bounded like a request body; over it Envoy answers 500. One per connection, reused.
/// </summary>
internal sealed class HeldResponseHead
{
    private HttpResponseHead _head = null!;
    private BodyFraming _framing;
    private bool _close;
    private long _maxHeldBytes;

    /// <summary>The head was not written: nothing of the response reached the client yet.</summary>
    public bool Pending { get; private set; }

    public void Hold(HttpResponseHead head, BodyFraming framing, bool close, long maxHeldBytes)
    {
        _head = head;
        _framing = framing;
        _close = close;
        _maxHeldBytes = maxHeldBytes;
        Pending = true;
    }

    public void Clear() => Pending = false;

    /// <summary>
    /// Before the pump writes what came out of the chain: whether it may go. The head goes first once the plugins
    /// released it (or the body ended).
    /// </summary>
    public HeldHeadStep BeforeData(PluginStream filter, bool endOfStream, long bytesRead, PipeWriter target)
    {
        if (!Pending)
        {
            return HeldHeadStep.Write;
        }
        if (filter.HeadersHeld && !endOfStream)
        {
            // The chain let nothing through: no bytes, and no head, go out yet.
            return bytesRead > _maxHeldBytes ? HeldHeadStep.TooLarge : HeldHeadStep.Hold;
        }
        Pending = false;
        HeadWriter.WriteResponse(target, _head, _framing, _head.ContentLength, _close);
        return HeldHeadStep.Write;
    }
}

internal enum HeldHeadStep
{
    Write,
    Hold,
    TooLarge,
}
