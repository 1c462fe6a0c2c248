using Gateway.Perf.Load;

namespace Gateway.Perf.Tests.Loaders;

/// <summary>The two closed-loop loaders the harness drives at saturation; the same tests hold both to one contract.</summary>
public enum Loader
{
    /// <summary><see cref="SaturationRun"/>: one thread over epoll.</summary>
    Epoll,

    /// <summary><see cref="ClosedLoopRun"/>: a thread per connection.</summary>
    ThreadPerConnection,
}
