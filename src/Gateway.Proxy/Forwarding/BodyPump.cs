using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Gateway.Http.Async;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Runtime;

namespace Gateway.Proxy.Forwarding;

internal enum PumpStatus
{
    Completed,
    /// <summary>The source closed before the body ended (CL-7, RS-4).</summary>
    SourceClosed,
    /// <summary>Chunked framing error in the source (CH-*); <see cref="BodyPump.Rejection"/> says which.</summary>
    SourceInvalid,
    /// <summary>The destination closed or failed while writing.</summary>
    TargetClosed,
    /// <summary>A plugin answered, reset or failed in a body callback; <see cref="BodyPump.Outcome"/> has it.</summary>
    Filtered,
    /// <summary>A client deadline (TO-2, TO-4) ended the transfer; <see cref="TransferWatchdog.Expired"/> says which.</summary>
    TimedOut,
    /// <summary>More than limits.maxBodyBytes arrived while a plugin held the response head (<see cref="HeldResponseHead"/>).</summary>
    HeldTooLarge,
    /// <summary>
    /// The plugins released the request head they held before the body ended (docs/proxy-wasm.md, 'Stream control'): what they let through is
    /// written; <see cref="BodyPump.ResumeAsync"/> carries the rest.
    /// </summary>
    HeadReleased,
}

/// <summary>
/// Streams one message body from a source pipe to a destination pipe, decoding the source framing and
/// writing the gateway's own framing (P-1). At most one read buffer is held at a time and every write
/// waits for the destination's flush, so memory stays bounded whatever the body size. It moves body bytes only:
/// heads are the exchange's (a held response head writes itself, <see cref="HeldResponseHead"/>).
/// </summary>
internal sealed class BodyPump
{
    // Made on first use: most routes have no body-inspecting plugin, and an idle connection should hold no buffer.
    private ArrayBufferWriter<byte>? _filtered;
    private ChunkedDecoder _decoder;
    private BodyTransfer _transfer;

    public RequestRejection Rejection { get; private set; }

    public FilterOutcome Outcome { get; private set; }

    /// <summary>Body bytes read from the source so far (before filtering).</summary>
    public long BytesRead { get; private set; }

    /// <summary>Body bytes written to the target so far (after filtering, without chunk framing).</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Starts a request's counts at zero, also for one whose body is never pumped (its access log line says 0).</summary>
    public void ResetCount()
    {
        BytesRead = 0;
        BytesWritten = 0;
    }

    public ValueTask<PumpStatus> PumpAsync(BodyTransfer transfer)
    {
        BytesRead = 0;
        BytesWritten = 0;
        _transfer = transfer;
        _decoder = default;
        try
        {
            if (TryPumpBuffered(out ValueTask<PumpStatus> pumped))
            {
                return pumped;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return new(PumpStatus.SourceClosed);
        }
        return PumpStreamAsync(transfer);
    }

    /// <summary>
    /// The common small body: a declared length that arrived whole with its head, passed on as it is (no plugin, no
    /// chunked coding). It is written and flushed without the streaming steps; false when the body is not such a one.
    /// </summary>
    private bool TryPumpBuffered(out ValueTask<PumpStatus> pumped)
    {
        ref readonly BodyTransfer t = ref _transfer;
        pumped = default;
        if (t.Framing != BodyFraming.ContentLength || t.ContentLength == 0 || t.Filter is not null || t.ChunkedOut ||
            !t.Source.TryRead(out ReadResult read))
        {
            return false;
        }
        ReadOnlySequence<byte> buffer = read.Buffer;
        if (read.IsCanceled || buffer.Length < t.ContentLength)
        {
            // Not all here yet, or a deadline's cancellation to report: the streaming pump reads it again.
            t.Source.AdvanceTo(buffer.Start);
            return false;
        }
        ReadOnlySequence<byte> body = buffer.Slice(0, t.ContentLength);
        BytesRead = body.Length;
        t.Watch?.Progress(BytesRead);
        // The target copied the body: the source's buffer goes back at once, also while a flush waits.
        pumped = SendAsync(body, endOfStream: true, released: false);
        t.Source.AdvanceTo(body.End);
        return true;
    }

    // Pooled async frames (per worker): an exchange that waits on the network allocates no state machine per await.
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<PumpStatus> PumpStreamAsync(BodyTransfer transfer)
    {
        try
        {
            return transfer.Framing switch
            {
                BodyFraming.ContentLength => await PumpContentLengthAsync(transfer.ContentLength),
                BodyFraming.Chunked => await PumpChunkedAsync(),
                BodyFraming.CloseDelimited => await PumpUntilCloseAsync(),
                _ => PumpStatus.Completed,
            };
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // Which side failed is decided by the caller from the stream states; a reset source is the common case.
            return PumpStatus.SourceClosed;
        }
    }

    /// <summary>
    /// Carries a request body that stopped at <see cref="PumpStatus.HeadReleased"/> on to its end, through the same
    /// plugin chain, with the chunked coding toward <paramref name="target"/>; the deadline settings stay as they were.
    /// </summary>
    public async ValueTask<PumpStatus> ResumeAsync(PipeWriter target)
    {
        _transfer = _transfer with { Target = target, ChunkedOut = true, UntilHeadReleased = false };
        try
        {
            // The chunked decoder kept its state; a declared length continues from what was read.
            return _transfer.Framing == BodyFraming.ContentLength
                ? await PumpContentLengthAsync(_transfer.ContentLength - BytesRead)
                : await PumpChunkedAsync();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return PumpStatus.SourceClosed;
        }
    }

    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<PumpStatus> PumpContentLengthAsync(long length)
    {
        if (length == 0)
        {
            // A declared empty body still ends the message: the head written before it must be flushed,
            // and a plugin told that a body follows sees its end.
            return await EmitAsync(ReadOnlySequence<byte>.Empty, true);
        }
        PipeReader source = _transfer.Source;
        long remaining = length;
        while (remaining > 0)
        {
            ReadResult read = await ReadAsync(source);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (read.IsCanceled)
            {
                source.AdvanceTo(buffer.Start);
                return PumpStatus.TimedOut;
            }
            if (buffer.IsEmpty && read.IsCompleted)
            {
                source.AdvanceTo(buffer.End);
                return PumpStatus.SourceClosed;
            }
            ReadOnlySequence<byte> take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
            remaining -= take.Length;
            BytesRead += take.Length;
            _transfer.Watch?.Progress(BytesRead);
            PumpStatus status = await EmitAsync(take, remaining == 0);
            source.AdvanceTo(take.End);
            if (status != PumpStatus.Completed)
            {
                return status;
            }
        }
        return PumpStatus.Completed;
    }

    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<PumpStatus> PumpChunkedAsync()
    {
        PipeReader source = _transfer.Source;
        while (true)
        {
            ReadResult read = await ReadAsync(source);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (read.IsCanceled)
            {
                source.AdvanceTo(buffer.Start);
                return PumpStatus.TimedOut;
            }
            SequencePosition position = buffer.Start;
            while (true)
            {
                ChunkStatus step = DecodeStep(buffer.Slice(position), out ReadOnlySequence<byte> data, out position);
                if (step == ChunkStatus.Data)
                {
                    BytesRead += data.Length;
                    _transfer.Watch?.Progress(BytesRead);
                    PumpStatus emitted = await EmitAsync(data, false);
                    if (emitted != PumpStatus.Completed)
                    {
                        source.AdvanceTo(position);
                        return emitted;
                    }
                    continue;
                }
                if (step == ChunkStatus.Complete)
                {
                    source.AdvanceTo(position);
                    // Without a plugin or the chunked coding, the end writes nothing: the last data's flush sent it all.
                    bool sent = BytesWritten > 0 && _transfer.Filter is null && !_transfer.ChunkedOut;
                    return sent ? PumpStatus.Completed : await EmitAsync(ReadOnlySequence<byte>.Empty, true);
                }
                if (step == ChunkStatus.Rejected)
                {
                    source.AdvanceTo(position);
                    return PumpStatus.SourceInvalid;
                }
                break;
            }
            source.AdvanceTo(position, buffer.End);
            if (read.IsCompleted)
            {
                return PumpStatus.SourceClosed;
            }
        }
    }

    private async ValueTask<PumpStatus> PumpUntilCloseAsync()
    {
        PipeReader source = _transfer.Source;
        while (true)
        {
            ReadResult read = await ReadAsync(source);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (read.IsCanceled)
            {
                source.AdvanceTo(buffer.Start);
                return PumpStatus.TimedOut;
            }
            BytesRead += buffer.Length;
            PumpStatus status = await EmitAsync(buffer, read.IsCompleted);
            source.AdvanceTo(buffer.End);
            if (status != PumpStatus.Completed || read.IsCompleted)
            {
                return status;
            }
        }
    }

    /// <summary>A request body's read from the client that has to wait starts the TO-2 clock.</summary>
    private ValueTask<ReadResult> ReadAsync(PipeReader source)
    {
        ValueTask<ReadResult> read = source.ReadAsync();
        if (!read.IsCompleted && _transfer.IsRequest)
        {
            _transfer.Watch?.SourceWaiting();
        }
        return read;
    }

    private ChunkStatus DecodeStep(ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> data, out SequencePosition position)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkStatus status = _decoder.Decode(ref reader, _transfer.MaxBytes, _transfer.Trailers, out data, out RequestRejection rejection);
        Rejection = rejection;
        position = reader.Position;
        return status;
    }

    /// <summary>Awaits one plugin phase within the filter deadline.</summary>
    private async ValueTask<FilterOutcome> FilterAsync(PluginStream filter, ValueTask<FilterOutcome> phase)
    {
        ValueTask<FilterOutcome> pending = _transfer.FilterDeadline?.WithinAsync(filter, phase, _transfer.FilterTimeoutMs) ?? phase;
        // TO-2: time a plugin takes is not the client's; a response pump's plugin is no client write (TO-4).
        TransferWatchdog? watch = _transfer.Watch;
        bool paused = !pending.IsCompleted && _transfer.IsRequest && watch is not null;
        if (paused)
        {
            watch!.WaitBegan();
        }
        FilterOutcome outcome = await pending;
        if (paused)
        {
            watch!.WaitEnded();
        }
        return outcome;
    }

    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<PumpStatus> EmitAsync(ReadOnlySequence<byte> data, bool endOfStream)
    {
        PipeWriter target = _transfer.Target;
        bool isRequest = _transfer.IsRequest;
        HeaderCollection trailers = _transfer.Trailers;
        bool released = false;
        if (_transfer.Filter is { } filter)
        {
            _filtered ??= new ArrayBufferWriter<byte>(16 * 1024);
            _filtered.ResetWrittenCount();
            // As in Envoy, a message with trailers ends with its trailer callbacks: the body callbacks all said
            // end_of_stream false, and the empty end of the chunked body is no body callback of its own.
            bool endsWithTrailers = endOfStream && trailers.Count > 0;
            if (!endsWithTrailers || !data.IsEmpty)
            {
                FilterOutcome outcome = await FilterAsync(
                    filter, isRequest ? filter.OnRequestBodyAsync(data, endOfStream, _filtered) : filter.OnResponseBodyAsync(data, endOfStream, _filtered));
                if (outcome.Action != FilterAction.Continue)
                {
                    Outcome = outcome;
                    return PumpStatus.Filtered;
                }
            }
            if (endsWithTrailers)
            {
                // The trailer callbacks may read and edit the trailers, and release the body plugins buffered.
                FilterOutcome outcome = await FilterAsync(
                    filter, isRequest ? filter.OnRequestTrailersAsync(trailers, _filtered) : filter.OnResponseTrailersAsync(trailers, _filtered));
                if (outcome.Action != FilterAction.Continue)
                {
                    Outcome = outcome;
                    return PumpStatus.Filtered;
                }
            }
            data = new ReadOnlySequence<byte>(_filtered.WrittenMemory);
            released = _transfer.UntilHeadReleased && !endOfStream && !filter.HeadersHeld;
            if (_transfer.HeldHead is { } held)
            {
                HeldHeadStep step = held.BeforeData(filter, endOfStream, BytesRead, target);
                if (step != HeldHeadStep.Write)
                {
                    return step == HeldHeadStep.TooLarge ? PumpStatus.HeldTooLarge : PumpStatus.Completed;
                }
            }
        }
        return await SendAsync(data, endOfStream, released);
    }

    /// <summary>Writes body bytes to the target in its framing and flushes them.</summary>
    private ValueTask<PumpStatus> SendAsync(ReadOnlySequence<byte> data, bool endOfStream, bool released)
    {
        PipeWriter target = _transfer.Target;
        BytesWritten += data.Length;
        if (_transfer.ChunkedOut)
        {
            HeadWriter.WriteChunk(target, data);
            if (endOfStream)
            {
                // Request trailers are dropped (CH-7 policy); response trailers are relayed.
                HeadWriter.WriteLastChunk(target, _transfer.IsRequest ? null : _transfer.Trailers);
            }
        }
        else
        {
            foreach (ReadOnlyMemory<byte> segment in data)
            {
                target.Write(segment.Span);
            }
        }
        return FlushAsync(released);
    }

    /// <summary>Sends what was written to the target; completes at once when the target took it all.</summary>
    private ValueTask<PumpStatus> FlushAsync(bool released)
    {
        try
        {
            ValueTask<FlushResult> pending = _transfer.Target.FlushAsync();
            return pending.IsCompleted ? new(Flushed(pending.Result, released)) : AwaitFlushAsync(pending, released);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return new(PumpStatus.TargetClosed);
        }
    }

    /// <summary>
    /// A flush the target could not take at once: a client's blocked write is TO-4's to time. A pooled frame, as every
    /// step the exchange awaits: the exchange awaits the pump without the captured context, and a task-backed step would
    /// resume it on the thread pool (a task does not run continuations inline under the worker's context).
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<PumpStatus> AwaitFlushAsync(ValueTask<FlushResult> pending, bool released)
    {
        TransferWatchdog? watch = _transfer.Watch;
        try
        {
            watch?.WaitBegan();
            FlushResult flushed = await pending;
            watch?.WaitEnded();
            return Flushed(flushed, released);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return PumpStatus.TargetClosed;
        }
    }

    private PumpStatus Flushed(FlushResult flushed, bool released)
    {
        if (flushed.IsCanceled && _transfer.Watch is { Expired: not ClientTimeout.None })
        {
            return PumpStatus.TimedOut;
        }
        if (flushed.IsCompleted || flushed.IsCanceled)
        {
            return PumpStatus.TargetClosed;
        }
        return released ? PumpStatus.HeadReleased : PumpStatus.Completed;
    }
}
