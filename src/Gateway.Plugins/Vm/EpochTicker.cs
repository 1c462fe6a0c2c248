using Gateway.Plugins.Contexts;
using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// Advances the engine's epoch about once a millisecond so a guest call that runs past its deadline traps
/// (docs/proxy-wasm.md, 'Other imports'). One thread per engine; deadlines are expressed in these ticks. With no guest call running the
/// thread sleeps: every call announces how long it may run (<see cref="Expect"/>), and the thread parks only
/// once that time, and a margin, have passed with no new call.
/// </summary>
internal sealed class EpochTicker : IDisposable
{
    public const ulong TicksPerMillisecond = 1;

    /// <summary>Ticks go on this long past the last announced budget before the thread parks.</summary>
    private const long ParkAfterMilliseconds = 100;

    private readonly Engine _engine;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _wake = new(false);
    private long _busyUntil;
    private int _parked;
    private volatile bool _stopped;

    public EpochTicker(Engine engine)
    {
        _engine = engine;
        _thread = new Thread(Run) { IsBackground = true, Name = "wasm-epoch", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>
    /// A guest may run for up to <paramref name="milliseconds"/> from now: the epoch must advance meanwhile.
    /// Called on every guest entry and deadline extension, so it writes shared state at most once a millisecond.
    /// </summary>
    public void Expect(long milliseconds)
    {
        long until = Environment.TickCount64 + milliseconds;
        long current = Volatile.Read(ref _busyUntil);
        while (until > current)
        {
            long seen = Interlocked.CompareExchange(ref _busyUntil, until, current);
            if (seen == current)
            {
                break;
            }
            current = seen;
        }
        // Pairs with Run: the CAS above and the exchange there are full fences, so either this sees the thread
        // parked and wakes it, or the thread sees this call's time and does not park.
        if (Volatile.Read(ref _parked) != 0 && Interlocked.Exchange(ref _parked, 0) != 0)
        {
            _wake.Set();
        }
    }

    private void Run()
    {
        while (!_stopped)
        {
            Thread.Sleep(1);
            _engine.IncrementEpoch();
            if (Idle())
            {
                _wake.Reset();
                Interlocked.Exchange(ref _parked, 1);
                if (Idle() && !_stopped)
                {
                    _wake.Wait();
                }
                Interlocked.Exchange(ref _parked, 0);
            }
        }
    }

    private bool Idle() => Environment.TickCount64 > Volatile.Read(ref _busyUntil) + ParkAfterMilliseconds;

    public void Dispose()
    {
        _stopped = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }
}
