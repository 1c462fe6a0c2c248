using Gateway.Plugins.Shared;
using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// The part of the plugin host that outlives reloads: the Wasmtime engine with its epoch thread, and what
/// plugins share across workers and VMs (shared data and queues, keyed by VM id as in Envoy). Every
/// <see cref="PluginRuntime"/> generation built on it holds a reference; the last one released disposes it.
/// </summary>
internal sealed class PluginEngine
{
    private readonly EpochTicker _ticker;
    private int _holders = 1;
    private long _lastRecreationTicks;

    public PluginEngine()
    {
        using var config = new Config().WithEpochInterruption(true);
        Engine = new Engine(config);
        _ticker = new EpochTicker(Engine);
    }

    public Engine Engine { get; }

    /// <summary>The epoch thread; guest calls announce their budget to it (<see cref="EpochTicker.Expect"/>).</summary>
    public EpochTicker Ticker => _ticker;

    public SharedData SharedData { get; } = new();

    public SharedQueues Queues { get; } = new();

    public TimeSpan LastRecreationTime => TimeSpan.FromTicks(Interlocked.Read(ref _lastRecreationTicks));

    public void RecordRecreationTime(double milliseconds) =>
        Interlocked.Exchange(ref _lastRecreationTicks, TimeSpan.FromMilliseconds(milliseconds).Ticks);

    /// <summary>One more generation uses the engine.</summary>
    public void Hold() => Interlocked.Increment(ref _holders);

    /// <summary>A generation is done with the engine; the last one stops the epoch thread and frees the engine.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            _ticker.Dispose();
            Engine.Dispose();
        }
    }
}
