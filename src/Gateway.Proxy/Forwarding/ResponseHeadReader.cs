using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Gateway.Http;
using Gateway.Http.Async;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Http.Transport;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// Reads an upstream's response head under the route's request timeout, absorbing interim responses (RS-8). One per
/// client connection, reused: its deadline, on the worker's clock, is re-armed, not made, per request.
/// </summary>
internal sealed class ResponseHeadReader : IDisposable
{
    private const int MaxInterimResponses = 8;

    private readonly Deadline _deadline;
    // The reader the deadline cancels, while a head is read; and whether it did.
    private PipeReader? _input;
    private bool _expired;

    public ResponseHeadReader(WorkerDeadlines deadlines)
    {
        _deadline = new Deadline(deadlines, static s => ((ResponseHeadReader)s!).Expire(), this);
    }

    /// <summary>
    /// Parses the final response head (or a 101 when <paramref name="upgradeOffered"/>) into <paramref name="response"/>.
    /// Returns <see cref="UpstreamError.None"/>; <see cref="UpstreamError.Reset"/> when the connection closed before any
    /// response (a fresh connection may be tried); <see cref="UpstreamError.ResponseTimeout"/>; <see cref="UpstreamError.BadResponse"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    public async ValueTask<UpstreamError> ReadAsync(
        UpstreamConnection upstream, HttpResponseHead response, HttpLimits limits, int timeoutMs, bool requestWasHead, bool upgradeOffered)
    {
        int interim = 0;
        PipeReader input = upstream.Input;
        // The first read may be the one the pooled connection kept pending while idle, which no token reaches: the
        // deadline cancels the reader itself.
        _input = input;
        _expired = false;
        _deadline.Arm(timeoutMs);
        try
        {
            while (true)
            {
                response.Reset();
                while (true)
                {
                    // Completed on the worker by its socket, or cancelled there by the deadline: resumed at once, not
                    // through the worker's queue (the caller checks: EnsureCurrent).
                    ReadResult read = await upstream.ReadAsync().ConfigureAwait(false);
                    var buffer = read.Buffer;
                    if (read.IsCanceled)
                    {
                        input.AdvanceTo(buffer.Start);
                        return UpstreamError.ResponseTimeout;
                    }
                    var reader = new System.Buffers.SequenceReader<byte>(buffer);
                    ParseStatus status = ResponseHeadParser.TryParse(ref reader, limits, requestWasHead, response, out _);
                    if (status == ParseStatus.Complete)
                    {
                        input.AdvanceTo(reader.Position);
                        break;
                    }
                    if (status == ParseStatus.Rejected)
                    {
                        input.AdvanceTo(buffer.End);
                        return UpstreamError.BadResponse;
                    }
                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (read.IsCompleted)
                    {
                        return buffer.IsEmpty ? UpstreamError.Reset : UpstreamError.BadResponse;
                    }
                }
                if (response.StatusCode >= 200)
                {
                    // A deadline that fired as the head arrived may have left a cancellation on the reader: the
                    // connection is not read again, and the exchange ends as a timeout.
                    return _expired ? UpstreamError.ResponseTimeout : UpstreamError.None;
                }
                // RS-8 / UP-4: interim responses are absorbed (the gateway answered any 100 itself);
                // a 101 nobody asked for is a bad response.
                if (response.StatusCode == 101 && upgradeOffered)
                {
                    return UpstreamError.None; // UP-3: the switch; its protocol is checked by the caller
                }
                if (response.StatusCode == 101 || ++interim > MaxInterimResponses)
                {
                    return UpstreamError.BadResponse;
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            return UpstreamError.Reset;
        }
        finally
        {
            _deadline.Disarm();
            _input = null;
        }
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
