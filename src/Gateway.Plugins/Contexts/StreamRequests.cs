using Gateway.Plugins.Runtime;

namespace Gateway.Plugins.Contexts;

/// <summary>
/// What the plugins of one stream asked the host to do with it from inside a guest call: answer locally or reset.
/// The stream takes the request at the next phase boundary; a local reply wins over a reset, and one is delivered at
/// most once (docs/proxy-wasm.md, 'Stream control'). A struct inside its stream (reached by reference), so a stream
/// costs no object for it.
/// </summary>
internal struct StreamRequests
{
    private LocalReply? _reply;
    private bool _replyDelivered;
    private bool _reset;

    /// <summary>A local reply is pending or was delivered: a further one is refused.</summary>
    public readonly bool ReplyRequested => _reply is not null || _replyDelivered;

    public void LocalReply(LocalReply reply) => _reply = reply;

    public void Reset() => _reset = true;

    /// <summary>Takes the pending request as the outcome of the current phase; false when there is none.</summary>
    public bool TryTake(out FilterOutcome outcome)
    {
        if (_reply is { } reply)
        {
            _reply = null;
            _replyDelivered = true;
            outcome = new FilterOutcome(FilterAction.LocalReply, reply);
            return true;
        }
        if (_reset)
        {
            _reset = false;
            outcome = new FilterOutcome(FilterAction.Reset, null);
            return true;
        }
        outcome = default;
        return false;
    }
}
