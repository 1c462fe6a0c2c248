using Wasmtime;

namespace Gateway.Plugins;

/// <summary>
/// Advances the engine's epoch about once a millisecond so a guest call that runs past its deadline traps
/// (ABI §6.3). One thread per engine; deadlines are expressed in these ticks.
/// </summary>
internal sealed class EpochTicker : IDisposable
{
    public const ulong TicksPerMillisecond = 1;

    private readonly Engine _engine;
    private readonly Thread _thread;
    private volatile bool _stopped;

    public EpochTicker(Engine engine)
    {
        _engine = engine;
        _thread = new Thread(Run) { IsBackground = true, Name = "wasm-epoch", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    private void Run()
    {
        while (!_stopped)
        {
            Thread.Sleep(1);
            _engine.IncrementEpoch();
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _thread.Join();
    }
}

/// <summary>A root context's tick timer (<c>proxy_set_tick_period_milliseconds</c>); due ticks coalesce (ABI §9.6).</summary>
internal sealed class TickTimer : IDisposable
{
    private readonly Timer _timer;
    private readonly RootContext _root;
    private int _queued;

    public TickTimer(RootContext root, int periodMilliseconds)
    {
        _root = root;
        _timer = new Timer(static s => ((TickTimer)s!).Due(), this, periodMilliseconds, periodMilliseconds);
    }

    private void Due()
    {
        if (Interlocked.Exchange(ref _queued, 1) == 0)
        {
            _root.Vm.Loop.Post(static s => ((TickTimer)s!).Fire(), this);
        }
    }

    private void Fire()
    {
        Volatile.Write(ref _queued, 0);
        if (_root.Tick == this)
        {
            _root.Vm.DeliverTick(_root);
        }
    }

    public void Dispose() => _timer.Dispose();
}
