using Gateway.Plugins.Contexts;

namespace Gateway.Plugins.Vm;

/// <summary>
/// The asynchronous calls (HTTP, Redis, SQL) one VM has in flight, by token. Tokens are unique among the calls still
/// pending (docs/proxy-wasm.md, 'Calls that wait'); a completion is delivered at most once, and never for a root
/// that was deleted or a stream that finished meanwhile. Used only on the VM's worker.
/// </summary>
internal sealed class PendingCalls
{
    private readonly Dictionary<uint, PendingCall> _calls = [];
    private uint _nextToken = 1;

    public int Count => _calls.Count;

    /// <summary>Registers a call made from <paramref name="context"/> and returns its token (never 0).</summary>
    public uint Start(ProxyContext context)
    {
        do
        {
            _nextToken = _nextToken == uint.MaxValue ? 1 : _nextToken + 1;
        }
        while (_calls.ContainsKey(_nextToken));
        var origin = context as StreamContext;
        _calls.Add(_nextToken, new PendingCall(context.Root, origin));
        if (origin is not null)
        {
            origin.CallsInFlight++;
        }
        return _nextToken;
    }

    /// <summary>The call could not start after all: no completion will come.</summary>
    public void Cancel(uint token) => TryRemove(token, out _);

    /// <summary>Removes the call; true when its completion is still wanted.</summary>
    public bool TryTake(uint token, out PendingCall call) => TryRemove(token, out call) && !call.Root.Deleted && !call.Dropped;

    /// <summary>Completions of calls a finished stream started are dropped, never delivered.</summary>
    public void DropCallsOf(StreamContext context)
    {
        // Most streams end with their calls completed: nothing to look for.
        if (context.CallsInFlight == 0)
        {
            return;
        }
        foreach (var call in _calls.Values)
        {
            if (call.Origin == context)
            {
                call.Dropped = true;
            }
        }
    }

    public void Clear() => _calls.Clear();

    private bool TryRemove(uint token, out PendingCall call)
    {
        if (!_calls.Remove(token, out call!))
        {
            return false;
        }
        if (call.Origin is { } origin)
        {
            origin.CallsInFlight--;
        }
        return true;
    }
}
