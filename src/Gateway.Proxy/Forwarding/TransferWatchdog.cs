using System.Diagnostics;
using System.IO.Pipelines;
using Gateway.Http;
using Gateway.Http.Transport;

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
/// TO-2 and TO-4 for one client connection, with one deadline on its worker's clock (<see cref="WorkerDeadlines"/>).
/// The deadline is armed only while a body transfer actually waits on the network: a body that came with its head, or a
/// response the socket took at once, never arms it. The pumps publish progress through plain fields (no allocation, no
/// clock call per read or flush); the tick, which the worker runs when the deadline expires, judges them and ends a
/// stalled transfer by cancelling the pending read or flush, which the pump sees as a cancelled result rather than an
/// exception. Pumps and tick all run on the worker, so no state is shared with another thread.
/// </summary>
internal sealed class TransferWatchdog : IDisposable
{
    // Request-body progress is sampled every quarter window; eight samples reach one window back unless
    // the upstream held the body up for most of that time, and then the client is not the one to judge.
    private const int Samples = 8;

    private readonly PipeReader _clientInput;
    private readonly PipeWriter _clientOutput;
    private readonly Deadline _tick;
    private readonly long[] _sampleTicks = new long[Samples];
    private readonly long[] _sampleBytes = new long[Samples];
    private readonly long[] _sampleWaited = new long[Samples];
    private Transfer _transfer;
    private PipeWriter? _upstreamOutput;
    private long _deadline;
    private long _windowTicks;
    private double _minBytesPerTick;
    private long _writeTimeoutTicks;
    private int _sampleCount;
    private int _sampleNext;
    private long _bytes;
    private long _waitingSince;
    private long _waitedTicks;

    public TransferWatchdog(PipeReader clientInput, PipeWriter clientOutput, WorkerDeadlines deadlines)
    {
        _clientInput = clientInput;
        _clientOutput = clientOutput;
        _tick = new Deadline(deadlines, static s => ((TransferWatchdog)s!).Tick(), this);
    }

    private enum Transfer
    {
        None,
        RequestBody,
        Response,
    }

    /// <summary>The deadline that ended the current (or last) transfer, if any.</summary>
    public ClientTimeout Expired { get; private set; }

    /// <summary>TO-2: a request body starts now; on expiry the pending client read and upstream write are cancelled.</summary>
    public void BeginRequestBody(HttpLimits limits, PipeWriter upstreamOutput)
    {
        long now = Stopwatch.GetTimestamp();
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

    /// <summary>TO-4: writes to the client start; on expiry the pending client flush is cancelled.</summary>
    public void BeginResponse(HttpLimits limits)
    {
        Reset(Transfer.Response);
        _writeTimeoutTicks = Ticks(limits.ResponseWriteTimeoutMs);
    }

    /// <summary>Ends the transfer; after this no tick touches the pipes it was given.</summary>
    public void End()
    {
        _transfer = Transfer.None;
        _upstreamOutput = null;
        _tick.Disarm();
    }

    /// <summary>Body bytes read from the source so far; judged in a request body only, where the source is the client.</summary>
    public void Progress(long bytes) => _bytes = bytes;

    /// <summary>Request body: a read from the client did not complete at once.</summary>
    public void SourceWaiting()
    {
        if (!_tick.IsArmed)
        {
            Arm(Stopwatch.GetTimestamp());
        }
    }

    /// <summary>
    /// The pump waits on something other than its source. In a request body that is the upstream or a
    /// plugin: not the client's slowness, so that time is left out of the rate (the overall deadline still
    /// counts it). In a response it is the client's socket: the TO-4 clock.
    /// </summary>
    public void WaitBegan()
    {
        _waitingSince = Stopwatch.GetTimestamp();
        if (!_tick.IsArmed)
        {
            Arm(_waitingSince);
        }
    }

    public void WaitEnded()
    {
        _waitedTicks += Stopwatch.GetTimestamp() - _waitingSince;
        _waitingSince = 0;
    }

    /// <summary>Leaves the worker's deadlines when the connection closes.</summary>
    public void Dispose()
    {
        _transfer = Transfer.None;
        _upstreamOutput = null;
        _tick.Dispose();
    }

    private void Reset(Transfer transfer)
    {
        _transfer = transfer;
        Expired = ClientTimeout.None;
        _bytes = 0;
        _waitingSince = 0;
        _waitedTicks = 0;
    }

    private void Arm(long now)
    {
        if (_transfer != Transfer.None)
        {
            _tick.Arm(DueMilliseconds(now));
        }
    }

    private void Tick()
    {
        if (_transfer == Transfer.None || Expired != ClientTimeout.None)
        {
            return;
        }
        long now = Stopwatch.GetTimestamp();
        ClientTimeout expired = _transfer == Transfer.RequestBody ? CheckRequestBody(now) : CheckResponse(now);
        if (expired == ClientTimeout.None)
        {
            Arm(now);
            return;
        }
        Expired = expired;
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
            // A pipe its owner already completed: nothing is left to cancel.
        }
    }

    private ClientTimeout CheckRequestBody(long now)
    {
        if (now >= _deadline)
        {
            return ClientTimeout.RequestBody;
        }
        long waited = _waitedTicks + (_waitingSince != 0 ? now - _waitingSince : 0);
        // The newest sample one window of the client's own time ago (waits on the upstream or a plugin left
        // out): since then the client must have sent at the minimum rate.
        for (int i = 0; i < _sampleCount; i++)
        {
            int slot = (_sampleNext - 1 - i + Samples) % Samples;
            long clientTicks = now - _sampleTicks[slot] - (waited - _sampleWaited[slot]);
            if (clientTicks >= _windowTicks)
            {
                if (_bytes - _sampleBytes[slot] < _minBytesPerTick * clientTicks)
                {
                    return ClientTimeout.RequestBodyRate;
                }
                break;
            }
        }
        _sampleTicks[_sampleNext] = now;
        _sampleBytes[_sampleNext] = _bytes;
        _sampleWaited[_sampleNext] = waited;
        _sampleNext = (_sampleNext + 1) % Samples;
        _sampleCount = Math.Min(_sampleCount + 1, Samples);
        return ClientTimeout.None;
    }

    private ClientTimeout CheckResponse(long now) =>
        _waitingSince != 0 && now - _waitingSince >= _writeTimeoutTicks ? ClientTimeout.ResponseWrite : ClientTimeout.None;

    private int DueMilliseconds(long now)
    {
        long due;
        if (_transfer == Transfer.RequestBody)
        {
            due = Math.Min(_windowTicks / 4, _deadline - now);
        }
        else
        {
            due = _waitingSince != 0 ? _waitingSince + _writeTimeoutTicks - now : _writeTimeoutTicks / 4;
        }
        return (int)Math.Clamp((due * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency, 1, int.MaxValue);
    }

    private static long Ticks(int milliseconds) => milliseconds * Stopwatch.Frequency / 1000;
}
