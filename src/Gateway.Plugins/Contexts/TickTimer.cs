using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Contexts;

/// <summary>A root context's tick timer (<c>proxy_set_tick_period_milliseconds</c>); due ticks coalesce (docs/proxy-wasm.md, 'Calls that wait').</summary>
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

    /// <summary>
    /// The flag stays set while the tick runs: a period that passes meanwhile is skipped, not queued behind it, so a
    /// tick slower than its period never runs back to back and holds up the worker.
    /// </summary>
    private void Fire()
    {
        try
        {
            if (_root.Tick == this)
            {
                _root.Vm.DeliverTick(_root);
            }
        }
        finally
        {
            Volatile.Write(ref _queued, 0);
        }
    }

    public void Dispose() => _timer.Dispose();
}
