using System.Buffers;
using System.IO.Pipelines;
using Gateway.Http;
using Gateway.Http.Messages;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The request body a Higress 0.2.100 plugin decides on before the request head may go (docs/proxy-wasm.md, 'Stream
/// control'): it runs through the chain into memory until the plugins let data through, then the head leaves with what
/// they changed. One per connection, reused; <see cref="End"/> readies it for the next request.
/// </summary>
internal sealed class HeldRequestBody
{
    // Made on first use. Never pauses its writer: limits.maxBodyBytes bounds what the chunked decoder lets in, and a
    // declared length above it never got this far.
    private Pipe? _pipe;
    private Stage _stage;

    private enum Stage
    {
        None,
        Receiving,
        /// <summary>The whole body passed the chain while the head was held.</summary>
        Whole,
        /// <summary>The plugins let data through before the body ended; the rest still comes from the client.</summary>
        Started,
    }

    /// <summary>A plugin held this request's head.</summary>
    public bool Active => _stage != Stage.None;

    /// <summary>The whole body is in memory: the request can go again on a fresh connection.</summary>
    public bool IsWhole => _stage == Stage.Whole;

    /// <summary>Part of the body is still to come from the client: <see cref="BodyPump.ResumeAsync"/> carries it.</summary>
    public bool Started => _stage == Stage.Started;

    /// <summary>Where <see cref="ReceiveAsync"/> puts what comes out of the chain.</summary>
    public PipeWriter Writer => (_pipe ??= new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false))).Writer;

    /// <summary>
    /// Receives the body through the chain (<paramref name="transfer"/> targets <see cref="Writer"/>) until the plugins
    /// let data through (<see cref="PumpStatus.HeadReleased"/>) or the body ends (<see cref="PumpStatus.Completed"/>).
    /// </summary>
    public async ValueTask<PumpStatus> ReceiveAsync(BodyPump pump, BodyTransfer transfer, TransferWatchdog watch, HttpLimits limits)
    {
        // Set before the first await: End cleans up even if receiving throws.
        _stage = Stage.Receiving;
        // TO-2 covers the whole body, also the part streamed after a release; the watchdog then still names this pipe as
        // the upstream side, so its expiry ends the transfer through the client read only.
        watch.BeginRequestBody(limits, transfer.Target);
        PumpStatus received = PumpStatus.SourceClosed;
        try
        {
            received = await pump.PumpAsync(transfer with { UntilHeadReleased = true });
        }
        finally
        {
            if (received != PumpStatus.HeadReleased)
            {
                watch.End();
            }
        }
        if (watch.Expired != ClientTimeout.None)
        {
            received = PumpStatus.TimedOut;
        }
        // A plugin that kept the headers past the end of the body (it took every byte, result 3) cannot release them
        // any more: the head goes with what came out of the chain.
        _stage = received switch
        {
            PumpStatus.HeadReleased => Stage.Started,
            PumpStatus.Completed => Stage.Whole,
            _ => Stage.Receiving,
        };
        return received;
    }

    /// <summary>
    /// Phase 4 for a held request: the head as the plugins left it and what they let through; when they released it
    /// before the body ended, the rest streams through the chain (keeping the TO-2 deadline it started with). Null when
    /// the whole body was written: the request waits for the caller's flush.
    /// </summary>
    public async ValueTask<PumpStatus?> SendAsync(PipeWriter upstream, HttpRequestHead request, BodyPump pump, TransferWatchdog watch)
    {
        WriteTo(upstream, request);
        if (_stage != Stage.Started)
        {
            return null;
        }
        try
        {
            return await pump.ResumeAsync(upstream);
        }
        finally
        {
            // Before the upstream connection can be released: no tick may cancel a write on it afterwards.
            watch.End();
        }
    }

    /// <summary>Writes the request head, as the plugins left it, and what they let through of the body.</summary>
    private void WriteTo(PipeWriter upstream, HttpRequestHead request)
    {
        // An empty pipe has no read to complete.
        bool any = _pipe!.Reader.TryRead(out ReadResult held);
        if (_stage == Stage.Started)
        {
            // The head goes with the first data the plugins let through; the rest streams through the chain.
            HeadWriter.WriteRequest(upstream, request, BodyFraming.Chunked, 0);
            HeadWriter.WriteChunk(upstream, held.Buffer);
        }
        else
        {
            // The whole filtered body is known: it goes with its length.
            HeadWriter.WriteRequest(upstream, request, BodyFraming.ContentLength, held.Buffer.Length);
            foreach (ReadOnlyMemory<byte> segment in held.Buffer)
            {
                upstream.Write(segment.Span);
            }
        }
        if (any)
        {
            // A whole body stays in the pipe for a retry on a fresh connection; a started one is sent once.
            _pipe.Reader.AdvanceTo(_stage == Stage.Whole ? held.Buffer.Start : held.Buffer.End);
        }
    }

    /// <summary>Ends the request's hold, however the exchange ended.</summary>
    public void End(TransferWatchdog watch)
    {
        if (_stage == Stage.None)
        {
            return;
        }
        _stage = Stage.None;
        // A body still streaming when the exchange ended early (no route, no upstream) keeps no deadline running.
        watch.End();
        // Returns the held body's segments to the pool and readies the pipe for the connection's next request.
        _pipe!.Reader.Complete();
        _pipe.Writer.Complete();
        _pipe.Reset();
    }
}
