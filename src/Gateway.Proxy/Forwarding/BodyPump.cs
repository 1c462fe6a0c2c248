using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
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
    /// <summary>More than <see cref="HeldResponseHead.MaxHeldBytes"/> arrived while a plugin held the head (docs/proxy-wasm.md, 'Stream control').</summary>
    HeldTooLarge,
    /// <summary>
    /// The plugins released the request head they held before the body ended (docs/proxy-wasm.md, 'Stream control'): what they let through is
    /// written; <see cref="BodyPump.ResumeAsync"/> carries the rest.
    /// </summary>
    HeadReleased,
}

/// <summary>
/// A response head a Higress 0.2.100 plugin holds (docs/proxy-wasm.md, 'Stream control'): the pump writes it, as the plugins left it, right before
/// the first body bytes the chain lets through, or at the end of the body.
/// </summary>
internal readonly record struct HeldResponseHead(HttpResponseHead Head, BodyFraming Framing, bool Close, long MaxHeldBytes);

/// <summary>
/// Streams one message body from a source pipe to a destination pipe, decoding the source framing and
/// writing the gateway's own framing (P-1). At most one read buffer is held at a time and every write
/// waits for the destination's flush, so memory stays bounded whatever the body size. With a
/// <see cref="TransferWatchdog"/>, a request pump reports the client's progress to it (TO-2) and a response
/// pump its blocked writes to the client (TO-4).
/// </summary>
internal sealed class BodyPump
{
    // Made on first use: most routes have no body-inspecting plugin, and an idle connection should hold no buffer.
    private ArrayBufferWriter<byte>? _filtered;
    private ChunkedDecoder _decoder;
    private int _filterTimeoutMs;
    private TransferWatchdog? _watch;
    private bool _isRequest;
    private HeldResponseHead _heldHead;
    private bool _untilHeadReleased;

    /// <summary>The held response head was not written: nothing of the response reached the client yet.</summary>
    public bool HeadPending { get; private set; }

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

    // Pooled async frames: an exchange that waits on the network allocates no state machine per await.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<PumpStatus> PumpAsync(
        PipeReader source, BodyFraming framing, long contentLength, long maxBytes,
        PipeWriter target, bool chunkedOut, PluginStream? filter, bool isRequest, HeaderCollection trailers,
        int filterTimeoutMs = Timeout.Infinite, TransferWatchdog? watch = null, HeldResponseHead? heldHead = null, bool untilHeadReleased = false)
    {
        BytesRead = 0;
        BytesWritten = 0;
        _untilHeadReleased = untilHeadReleased;
        HeadPending = heldHead is not null;
        _heldHead = heldHead.GetValueOrDefault();
        _filterTimeoutMs = filterTimeoutMs;
        _watch = watch;
        _isRequest = isRequest;
        _decoder = default;
        try
        {
            return framing switch
            {
                BodyFraming.ContentLength => await PumpContentLengthAsync(source, contentLength, target, chunkedOut, filter, isRequest, trailers),
                BodyFraming.Chunked => await PumpChunkedAsync(source, maxBytes, target, chunkedOut, filter, isRequest, trailers),
                BodyFraming.CloseDelimited => await PumpUntilCloseAsync(source, target, chunkedOut, filter, isRequest, trailers),
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
    public async ValueTask<PumpStatus> ResumeAsync(
        PipeReader source, BodyFraming framing, long contentLength, long maxBytes, PipeWriter target, PluginStream filter, HeaderCollection trailers)
    {
        _untilHeadReleased = false;
        try
        {
            // The chunked decoder kept its state; a declared length continues from what was read.
            return framing == BodyFraming.ContentLength
                ? await PumpContentLengthAsync(source, contentLength - BytesRead, target, chunkedOut: true, filter, isRequest: true, trailers)
                : await PumpChunkedAsync(source, maxBytes, target, chunkedOut: true, filter, isRequest: true, trailers);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return PumpStatus.SourceClosed;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<PumpStatus> PumpContentLengthAsync(
        PipeReader source, long length, PipeWriter target, bool chunkedOut, PluginStream? filter, bool isRequest, HeaderCollection trailers)
    {
        if (length == 0)
        {
            // A declared empty body still ends the message: the head written before it must be flushed,
            // and a plugin told that a body follows sees its end.
            return await EmitAsync(ReadOnlySequence<byte>.Empty, true, target, chunkedOut, filter, isRequest, trailers);
        }
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
            _watch?.Progress(BytesRead);
            PumpStatus status = await EmitAsync(take, remaining == 0, target, chunkedOut, filter, isRequest, trailers);
            source.AdvanceTo(take.End);
            if (status != PumpStatus.Completed)
            {
                return status;
            }
        }
        return PumpStatus.Completed;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<PumpStatus> PumpChunkedAsync(
        PipeReader source, long maxBytes, PipeWriter target, bool chunkedOut, PluginStream? filter, bool isRequest, HeaderCollection trailers)
    {
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
                ChunkStatus step = DecodeStep(buffer.Slice(position), maxBytes, trailers, out ReadOnlySequence<byte> data, out position);
                if (step == ChunkStatus.Data)
                {
                    BytesRead += data.Length;
                    _watch?.Progress(BytesRead);
                    PumpStatus emitted = await EmitAsync(data, false, target, chunkedOut, filter, isRequest, trailers);
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
                    return await EmitAsync(ReadOnlySequence<byte>.Empty, true, target, chunkedOut, filter, isRequest, trailers);
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

    private async ValueTask<PumpStatus> PumpUntilCloseAsync(
        PipeReader source, PipeWriter target, bool chunkedOut, PluginStream? filter, bool isRequest, HeaderCollection trailers)
    {
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
            PumpStatus status = await EmitAsync(buffer, read.IsCompleted, target, chunkedOut, filter, isRequest, trailers);
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
        if (!read.IsCompleted && _isRequest)
        {
            _watch?.SourceWaiting();
        }
        return read;
    }

    private ChunkStatus DecodeStep(ReadOnlySequence<byte> buffer, long maxBytes, HeaderCollection trailers,
        out ReadOnlySequence<byte> data, out SequencePosition position)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkStatus status = _decoder.Decode(ref reader, maxBytes, trailers, out data, out RequestRejection rejection);
        Rejection = rejection;
        position = reader.Position;
        return status;
    }

    /// <summary>Awaits one plugin phase within the filter deadline.</summary>
    private async ValueTask<FilterOutcome> FilterAsync(PluginStream filter, ValueTask<FilterOutcome> phase)
    {
        ValueTask<FilterOutcome> pending = PluginDeadline.WithinAsync(filter, phase, _filterTimeoutMs);
        // TO-2: time a plugin takes is not the client's; a response pump's plugin is no client write (TO-4).
        bool paused = !pending.IsCompleted && _isRequest && _watch is not null;
        if (paused)
        {
            _watch!.WaitBegan();
        }
        FilterOutcome outcome = await pending;
        if (paused)
        {
            _watch!.WaitEnded();
        }
        return outcome;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<PumpStatus> EmitAsync(
        ReadOnlySequence<byte> data, bool endOfStream, PipeWriter target, bool chunkedOut, PluginStream? filter,
        bool isRequest, HeaderCollection trailers)
    {
        bool released = false;
        if (filter is not null)
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
            released = _untilHeadReleased && !endOfStream && !filter.HeadersHeld;
            if (HeadPending)
            {
                if (filter.HeadersHeld && !endOfStream)
                {
                    // The chain let nothing through: no bytes, and no head, go out yet.
                    return BytesRead > _heldHead.MaxHeldBytes ? PumpStatus.HeldTooLarge : PumpStatus.Completed;
                }
                HeadPending = false;
                HeadWriter.WriteResponse(target, _heldHead.Head, _heldHead.Framing, _heldHead.Head.ContentLength, _heldHead.Close);
            }
        }
        BytesWritten += data.Length;
        if (chunkedOut)
        {
            HeadWriter.WriteChunk(target, data);
            if (endOfStream)
            {
                // Request trailers are dropped (CH-7 policy); response trailers are relayed.
                HeadWriter.WriteLastChunk(target, isRequest ? null : trailers);
            }
        }
        else
        {
            foreach (ReadOnlyMemory<byte> segment in data)
            {
                target.Write(segment.Span);
            }
        }
        try
        {
            ValueTask<FlushResult> pending = target.FlushAsync();
            FlushResult flushed;
            if (pending.IsCompleted || _watch is null)
            {
                flushed = await pending;
            }
            else
            {
                _watch.WaitBegan();
                flushed = await pending;
                _watch.WaitEnded();
            }
            if (flushed.IsCanceled && _watch is { Expired: not ClientTimeout.None })
            {
                return PumpStatus.TimedOut;
            }
            if (flushed.IsCompleted || flushed.IsCanceled)
            {
                return PumpStatus.TargetClosed;
            }
            return released ? PumpStatus.HeadReleased : PumpStatus.Completed;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return PumpStatus.TargetClosed;
        }
    }
}
