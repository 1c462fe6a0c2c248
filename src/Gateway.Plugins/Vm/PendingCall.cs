using Gateway.Plugins.Contexts;

namespace Gateway.Plugins.Vm;

/// <summary>An asynchronous call in flight: the root it belongs to and the stream that started it.</summary>
internal sealed class PendingCall(RootContext root, StreamContext? origin)
{
    public RootContext Root { get; } = root;

    public StreamContext? Origin { get; } = origin;

    /// <summary>The originating stream finished; the completion is dropped.</summary>
    public bool Dropped { get; set; }
}
