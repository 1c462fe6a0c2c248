using System.Buffers;
using System.IO.Pipelines;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Plugins;

namespace Gateway.Proxy.Forwarding;

public enum PumpStatus
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
}

/// <summary>
/// Streams one message body from a source pipe to a destination pipe, decoding the source framing and
/// writing the gateway's own framing (P-1). At most one read buffer is held at a time and every write
/// waits for the destination's flush, so memory stays bounded whatever the body size.
/// </summary>
public sealed class BodyPump
{
    // Made on first use: most routes have no body-inspecting plugin, and an idle connection should hold no buffer.
    private ArrayBufferWriter<byte>? _filtered;
    private ChunkedDecoder _decoder;
    private int _filterTimeoutMs;

    public RequestRejection Rejection { get; private set; }

    public FilterOutcome Outcome { get; private set; }

    /// <summary>Body bytes read from the source so far (before filtering).</summary>
    public long BytesRead { get; private set; }

    public async ValueTask<PumpStatus> PumpAsync(
        PipeReader source, BodyFraming framing, long contentLength, long maxBytes,
        PipeWriter target, bool chunkedOut, PluginStream? filter, bool isRequest, HeaderCollection trailers, int filterTimeoutMs = Timeout.Infinite)
    {
        BytesRead = 0;
        _filterTimeoutMs = filterTimeoutMs;
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

    private async ValueTask<PumpStatus> PumpContentLengthAsync(
        PipeReader source, long length, PipeWriter target, bool chunkedOut, PluginStream? filter, bool isRequest, HeaderCollection trailers)
    {
        long remaining = length;
        while (remaining > 0)
        {
            ReadResult read = await source.ReadAsync();
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (buffer.IsEmpty && read.IsCompleted)
            {
                source.AdvanceTo(buffer.End);
                return PumpStatus.SourceClosed;
            }
            ReadOnlySequence<byte> take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
            remaining -= take.Length;
            BytesRead += take.Length;
            PumpStatus status = await EmitAsync(take, remaining == 0, target, chunkedOut, filter, isRequest, trailers);
            source.AdvanceTo(take.End);
            if (status != PumpStatus.Completed)
            {
                return status;
            }
        }
        return PumpStatus.Completed;
    }

    private async ValueTask<PumpStatus> PumpChunkedAsync(
        PipeReader source, long maxBytes, PipeWriter target, bool chunkedOut, PluginStream? filter, bool isRequest, HeaderCollection trailers)
    {
        while (true)
        {
            ReadResult read = await source.ReadAsync();
            ReadOnlySequence<byte> buffer = read.Buffer;
            SequencePosition position = buffer.Start;
            while (true)
            {
                ChunkStatus step = DecodeStep(buffer.Slice(position), maxBytes, trailers, out ReadOnlySequence<byte> data, out position);
                if (step == ChunkStatus.Data)
                {
                    BytesRead += data.Length;
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
            ReadResult read = await source.ReadAsync();
            ReadOnlySequence<byte> buffer = read.Buffer;
            BytesRead += buffer.Length;
            PumpStatus status = await EmitAsync(buffer, read.IsCompleted, target, chunkedOut, filter, isRequest, trailers);
            source.AdvanceTo(buffer.End);
            if (status != PumpStatus.Completed || read.IsCompleted)
            {
                return status;
            }
        }
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

    private async ValueTask<PumpStatus> EmitAsync(
        ReadOnlySequence<byte> data, bool endOfStream, PipeWriter target, bool chunkedOut, PluginStream? filter,
        bool isRequest, HeaderCollection trailers)
    {
        if (filter is not null)
        {
            _filtered ??= new ArrayBufferWriter<byte>(16 * 1024);
            _filtered.ResetWrittenCount();
            FilterOutcome outcome = await PluginDeadline.WithinAsync(
                isRequest ? filter.OnRequestBodyAsync(data, endOfStream, _filtered) : filter.OnResponseBodyAsync(data, endOfStream, _filtered),
                _filterTimeoutMs);
            if (outcome.Action != FilterAction.Continue)
            {
                Outcome = outcome;
                return PumpStatus.Filtered;
            }
            data = new ReadOnlySequence<byte>(_filtered.WrittenMemory);
        }
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
            FlushResult flushed = await target.FlushAsync();
            return flushed.IsCompleted || flushed.IsCanceled ? PumpStatus.TargetClosed : PumpStatus.Completed;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return PumpStatus.TargetClosed;
        }
    }
}
