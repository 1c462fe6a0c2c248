using System.IO.Pipelines;
using System.Buffers;
using Gateway.Http;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Http.Transport;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// Reads an upstream's response head under the route's request timeout, absorbing interim responses (RS-8). One per
/// client connection, reused: its deadline, on the worker's clock, is re-armed, not made, per request. The exchange
/// awaits the reads itself and hands each to <see cref="TryTake"/>, so a response that waits on the network suspends
/// one async step fewer.
/// </summary>
internal sealed class ResponseHeadReader : IDisposable
{
    private const int MaxInterimResponses = 8;

    private readonly Deadline _deadline;
    // The reader the deadline cancels, while a head is read; and whether it did.
    private PipeReader? _input;
    private bool _expired;
    private int _interim;
    // What the head being read is parsed into, and how (Begin).
    private HttpResponseHead? _response;
    private HttpLimits? _limits;
    private bool _requestWasHead;
    private bool _upgradeOffered;
    private bool _asFieldLines;

    public ResponseHeadReader(WorkerDeadlines deadlines)
    {
        _deadline = new Deadline(deadlines, static s => ((ResponseHeadReader)s!).Expire(), this);
    }

    /// <summary>
    /// Starts reading a response head from <paramref name="upstream"/> into <paramref name="response"/> under
    /// <paramref name="timeoutMs"/>; a 101 is final only when <paramref name="upgradeOffered"/>. The head keeps its fields
    /// as the lines the gateway writes (<see cref="HttpResponseHead.HoldsFieldLines"/>): plugins that only count them or
    /// add to them, as most do, never need them as strings.
    /// </summary>
    public void Begin(
        UpstreamConnection upstream, HttpResponseHead response, HttpLimits limits, int timeoutMs, bool requestWasHead, bool upgradeOffered)
    {
        // The first read may be the one the pooled connection kept pending while idle, which no token reaches: the
        // deadline cancels the reader itself.
        _input = upstream.Input;
        _response = response;
        _limits = limits;
        _requestWasHead = requestWasHead;
        _upgradeOffered = upgradeOffered;
        // A 101's Connection and Upgrade fields are checked as strings (UpgradeRequest.Accepts).
        _asFieldLines = !upgradeOffered;
        _expired = false;
        _interim = 0;
        response.Reset();
        _deadline.Arm(timeoutMs);
    }

    /// <summary>
    /// Takes what one read of the upstream brought. False while the final head needs another read; true with
    /// <see cref="UpstreamError.None"/> when the response given to <see cref="Begin"/> holds it,
    /// <see cref="UpstreamError.Reset"/> when the connection closed before any response (a fresh connection may be
    /// tried), <see cref="UpstreamError.ResponseTimeout"/> or <see cref="UpstreamError.BadResponse"/>.
    /// </summary>
    public bool TryTake(in ReadResult read, out UpstreamError error)
    {
        PipeReader input = _input!;
        HttpResponseHead response = _response!;
        ReadOnlySequence<byte> buffer = read.Buffer;
        if (read.IsCanceled)
        {
            input.AdvanceTo(buffer.Start);
            error = UpstreamError.ResponseTimeout;
            return true;
        }
        var reader = new SequenceReader<byte>(buffer);
        ParseStatus status = ResponseHeadParser.TryParse(
            ref reader, _limits!, _requestWasHead, forwarding: _asFieldLines, response, out _);
        if (status == ParseStatus.Rejected)
        {
            input.AdvanceTo(buffer.End);
            error = UpstreamError.BadResponse;
            return true;
        }
        if (status == ParseStatus.Incomplete)
        {
            input.AdvanceTo(buffer.Start, buffer.End);
            error = buffer.IsEmpty ? UpstreamError.Reset : UpstreamError.BadResponse;
            return read.IsCompleted;
        }
        input.AdvanceTo(reader.Position);
        if (response.StatusCode >= 200)
        {
            // A deadline that fired as the head arrived may have left a cancellation on the reader: the
            // connection is not read again, and the exchange ends as a timeout.
            error = _expired ? UpstreamError.ResponseTimeout : UpstreamError.None;
            return true;
        }
        // RS-8 / UP-4: interim responses are absorbed (the gateway answered any 100 itself);
        // a 101 nobody asked for is a bad response.
        if (response.StatusCode == 101 && _upgradeOffered)
        {
            error = UpstreamError.None; // UP-3: the switch; its protocol is checked by the caller
            return true;
        }
        if (response.StatusCode == 101 || ++_interim > MaxInterimResponses)
        {
            error = UpstreamError.BadResponse;
            return true;
        }
        // The next read returns at once what followed the interim head in the buffer.
        response.Reset();
        error = UpstreamError.None;
        return false;
    }

    /// <summary>Ends the read, however it ended.</summary>
    public void End()
    {
        _deadline.Disarm();
        _input = null;
        _response = null;
        _limits = null;
    }

    /// <summary>KA-5 / RS-6: bytes beyond the response's end mean the upstream and the gateway disagree on framing.</summary>
    public static bool HasExtraBytes(UpstreamConnection upstream)
    {
        if (upstream.Input.TryRead(out ReadResult read))
        {
            bool extra = !read.Buffer.IsEmpty || read.IsCompleted;
            upstream.Input.AdvanceTo(read.Buffer.Start);
            return extra;
        }
        return false;
    }

    public void Dispose() => _deadline.Dispose();

    private void Expire()
    {
        _expired = true;
        _input?.CancelPendingRead();
    }
}
