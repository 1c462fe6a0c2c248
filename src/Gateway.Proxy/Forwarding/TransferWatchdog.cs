using System.Diagnostics;
using System.IO.Pipelines;
using Gateway.Http;

namespace Gateway.Proxy.Forwarding;

/// <summary>The client deadline that ended an exchange: TO-1, TO-2 or TO-4.</summary>
internal enum ClientTimeout
{
    None,
    /// <summary>TO-1: the request head did not arrive in time.</summary>
    Header,
    /// <summary>TO-2: the request body arrived slower than the minimum rate over the rate window.</summary>
    RequestBodyRate,
    /// <summary>TO-2: the request body was not complete within its overall deadline.</summary>
    RequestBody,
    /// <summary>TO-4: one write to the client stayed blocked (the client does not read) past its timeout.</summary>
    ResponseWrite,
}

internal static class ClientTimeouts
{
    public const int Count = (int)ClientTimeout.ResponseWrite + 1;

    public static string Label(ClientTimeout timeout) => timeout switch
    {
        ClientTimeout.Header => "header",
        ClientTimeout.RequestBodyRate => "request_body_rate",
        ClientTimeout.RequestBody => "request_body",
        ClientTimeout.ResponseWrite => "response_write",
        _ => "none",
    };
}

/// <summary>
/// TO-2 and TO-4 for one client connection, with one timer. The timer runs only while a body transfer
/// actually waits on the network: a body that came with its head, or a response the socket took at once,
/// never starts it. The worker publishes progress through plain fields (no allocation, no timer call per
/// read or flush); the timer's tick, on a pool thread, judges them and ends a stalled transfer by cancelling
/// the pending read or flush, which the pump sees as a cancelled result rather than an exception.
/// </summary>
internal sealed class TransferWatchdog : IDisposable
{
    // Request-body progress is sampled every quarter window; eight samples reach one window back unless
    // the upstream held the body up for most of that time, and then the client is not the one to judge.
    private const int Samples = 8;

    private readonly PipeReader _clientInput;
    private readonly PipeWriter _clientOutput;
    // Orders the worker's Begin/End against a tick, so a tick never cancels a transfer that has already ended.
    private readonly Lock _gate = new();
    private readonly long[] _sampleTicks = new long[Samples];
    private readonly long[] _sampleBytes = new long[Samples];
    private readonly long[] _sampleWaited = new long[Samples];
    private Timer? _timer;
    private bool _armed;
    private Transfer _transfer;
    private PipeWriter? _upstreamOutput;
    private long _deadline;
    private long _windowTicks;
    private double _minBytesPerTick;
    private long _writeTimeoutTicks;
    private int _sampleCount;
    private int _sampleNext;
    // Written by the worker, read by the tick.
    private long _bytes;
    private long _waitingSince;
    private long _waitedTicks;
    private volatile ClientTimeout _expired;

    public TransferWatchdog(PipeReader clientInput, PipeWriter clientOutput)
    {
        _clientInput = clientInput;
        _clientOutput = clientOutput;
    }

    private enum Transfer
    {
        None,
        RequestBody,
        Response,
    }

    /// <summary>The deadline that ended the current (or last) transfer, if any.</summary>
    public ClientTimeout Expired => _expired;

    /// <summary>TO-2: a request body starts now; on expiry the pending client read and upstream write are cancelled.</summary>
    public void BeginRequestBody(HttpLimits limits, PipeWriter upstreamOutput)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            Reset(Transfer.RequestBody);
            _upstreamOutput = upstreamOutput;
            _deadline = now + Ticks(limits.RequestBodyTimeoutMs);
            _windowTicks = Ticks(limits.RequestBodyRateWindowMs);
            _minBytesPerTick = (double)limits.MinRequestBodyBytesPerSecond / Stopwatch.Frequency;
            // The body's start is the first sample: its first window is the grace period.
            _sampleTicks[0] = now;
            _sampleBytes[0] = 0;
            _sampleWaited[0] = 0;
            _sampleCount = 1;
            _sampleNext = 1;
        }
    }

    /// <summary>TO-4: writes to the client start; on expiry the pending client flush is cancelled.</summary>
    public void BeginResponse(HttpLimits limits)
    {
        lock (_gate)
        {
            Reset(Transfer.Response);
            _writeTimeoutTicks = Ticks(limits.ResponseWriteTimeoutMs);
        }
    }

    /// <summary>Ends the transfer; after this no tick touches the pipes it was given.</summary>
    public void End()
    {
        lock (_gate)
        {
            _transfer = Transfer.None;
            _upstreamOutput = null;
            if (_armed)
            {
                _armed = false;
                _timer!.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }
    }

    /// <summary>Body bytes read from the source so far; judged in a request body only, where the source is the client.</summary>
    public void Progress(long bytes) => Volatile.Write(ref _bytes, bytes);

    /// <summary>Request body: a read from the client did not complete at once.</summary>
    public void SourceWaiting()
    {
        if (!_armed)
        {
            Arm();
        }
    }

    /// <summary>
    /// The pump waits on something other than its source. In a request body that is the upstream or a
    /// plugin: not the client's slowness, so that time is left out of the rate (the overall deadline still
    /// counts it). In a response it is the client's socket: the TO-4 clock.
    /// </summary>
    public void WaitBegan()
    {
        Volatile.Write(ref _waitingSince, Stopwatch.GetTimestamp());
        if (!_armed)
        {
            Arm();
        }
    }

    public void WaitEnded()
    {
        // The total first: a tick that sees the wait over must also see it counted.
        Volatile.Write(ref _waitedTicks, _waitedTicks + Stopwatch.GetTimestamp() - _waitingSince);
        Volatile.Write(ref _waitingSince, 0);
    }

    public void Dispose()
    {
        End();
        _timer?.Dispose();
    }

    private void Reset(Transfer transfer)
    {
        _transfer = transfer;
        _expired = ClientTimeout.None;
        _bytes = 0;
        _waitingSince = 0;
        _waitedTicks = 0;
    }

    private void Arm()
    {
        lock (_gate)
        {
            if (_transfer == Transfer.None)
            {
                return;
            }
            _armed = true;
            _timer ??= CreateTimer();
            _timer.Change(DueMilliseconds(Stopwatch.GetTimestamp()), Timeout.Infinite);
        }
    }

    private Timer CreateTimer()
    {
        // The timer lives as long as the connection: it must not keep the first request's async-local
        // state (its Activity, for one) alive, nor run the tick inside it.
        bool suppress = !ExecutionContext.IsFlowSuppressed();
        if (suppress)
        {
            ExecutionContext.SuppressFlow();
        }
        try
        {
            return new Timer(static state => ((TransferWatchdog)state!).Tick(), this, Timeout.Infinite, Timeout.Infinite);
        }
        finally
        {
            if (suppress)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }

    private void Tick()
    {
        lock (_gate)
        {
            if (_transfer == Transfer.None || _expired != ClientTimeout.None)
            {
                return;
            }
            long now = Stopwatch.GetTimestamp();
            ClientTimeout expired = _transfer == Transfer.RequestBody ? CheckRequestBody(now) : CheckResponse(now);
            if (expired == ClientTimeout.None)
            {
                _timer!.Change(DueMilliseconds(now), Timeout.Infinite);
                return;
            }
            _expired = expired;
            try
            {
                if (_transfer == Transfer.RequestBody)
                {
                    _clientInput.CancelPendingRead();
                    _upstreamOutput?.CancelPendingFlush();
                }
                else
                {
                    _clientOutput.CancelPendingFlush();
                }
            }
            catch (ObjectDisposedException)
            {
                // A pipe completed by a close that raced this tick: nothing is left to cancel.
            }
        }
    }

    private ClientTimeout CheckRequestBody(long now)
    {
        if (now >= _deadline)
        {
            return ClientTimeout.RequestBody;
        }
        long bytes = Volatile.Read(ref _bytes);
        long since = Volatile.Read(ref _waitingSince);
        long waited = Volatile.Read(ref _waitedTicks) + (since != 0 ? now - since : 0);
        // The newest sample one window of the client's own time ago (waits on the upstream or a plugin left
        // out): since then the client must have sent at the minimum rate.
        for (int i = 0; i < _sampleCount; i++)
        {
            int slot = (_sampleNext - 1 - i + Samples) % Samples;
            long clientTicks = now - _sampleTicks[slot] - (waited - _sampleWaited[slot]);
            if (clientTicks >= _windowTicks)
            {
                if (bytes - _sampleBytes[slot] < _minBytesPerTick * clientTicks)
                {
                    return ClientTimeout.RequestBodyRate;
                }
                break;
            }
        }
        _sampleTicks[_sampleNext] = now;
        _sampleBytes[_sampleNext] = bytes;
        _sampleWaited[_sampleNext] = waited;
        _sampleNext = (_sampleNext + 1) % Samples;
        _sampleCount = Math.Min(_sampleCount + 1, Samples);
        return ClientTimeout.None;
    }

    private ClientTimeout CheckResponse(long now)
    {
        long since = Volatile.Read(ref _waitingSince);
        return since != 0 && now - since >= _writeTimeoutTicks ? ClientTimeout.ResponseWrite : ClientTimeout.None;
    }

    private long DueMilliseconds(long now)
    {
        long due;
        if (_transfer == Transfer.RequestBody)
        {
            due = Math.Min(_windowTicks / 4, _deadline - now);
        }
        else
        {
            long since = Volatile.Read(ref _waitingSince);
            due = since != 0 ? since + _writeTimeoutTicks - now : _writeTimeoutTicks / 4;
        }
        return Math.Max(1, (due * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
    }

    private static long Ticks(int milliseconds) => milliseconds * Stopwatch.Frequency / 1000;
}
