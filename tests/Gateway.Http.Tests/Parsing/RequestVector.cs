using System.Buffers;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>The outcome of feeding one request vector to <see cref="RequestHeadParser"/>.</summary>
internal sealed record RequestOutcome(ParseStatus Status, RequestRejection Rejection, HttpRequestHead Head, long Consumed)
{
    public int StatusCode => RequestRejections.StatusCode(Rejection);
}

/// <summary>
/// Feeds a vector whole, then one byte at a time (each growing prefix as single-byte segments, the way a pipe
/// delivers a trickling client), and asserts both deliveries reach the same verdict.
/// </summary>
internal static class RequestVector
{
    public static readonly HttpLimits DefaultLimits = new();

    public static RequestOutcome Parse(string text, HttpLimits? limits = null) => Parse(ByteSegments.Latin1(text), limits);

    public static RequestOutcome Parse(byte[] bytes, HttpLimits? limits = null)
    {
        limits ??= DefaultLimits;
        RequestOutcome whole = ParseOnce(ByteSegments.Whole(bytes), limits);
        RequestOutcome trickled = Trickle(bytes, limits);
        Assert.Equal(whole.Status, trickled.Status);
        Assert.Equal(whole.Rejection, trickled.Rejection);
        Assert.Equal(whole.Consumed, trickled.Consumed);
        if (whole.Status == ParseStatus.Complete)
        {
            AssertSameHead(whole.Head, trickled.Head);
        }
        return whole;
    }

    public static RequestOutcome ParseOnce(ReadOnlySequence<byte> sequence, HttpLimits limits)
    {
        var reader = new SequenceReader<byte>(sequence);
        var head = new HttpRequestHead();
        ParseStatus status = RequestHeadParser.TryParse(ref reader, limits, head, out RequestRejection rejection);
        if (status != ParseStatus.Complete)
        {
            Assert.Equal(0, reader.Consumed); // nothing is consumed unless a head is complete
        }
        Assert.Equal(status == ParseStatus.Rejected, rejection != RequestRejection.None);
        return new RequestOutcome(status, rejection, head, reader.Consumed);
    }

    /// <summary>
    /// Delivers growing prefixes built from single-byte segments until the parser decides. Every prefix is tried
    /// for vectors up to 1 KiB; longer vectors (a few corpus cases and limit tests) are tried at every length
    /// within 64 bytes of either end and every 17th length in between, and always as a whole at the end, so each
    /// line boundary still straddles segments without making the suite quadratic in its longest vectors.
    /// </summary>
    private static RequestOutcome Trickle(byte[] bytes, HttpLimits limits)
    {
        ReadOnlySequence<byte> all = ByteSegments.OnePerByte(bytes);
        RequestOutcome outcome = ParseOnce(ReadOnlySequence<byte>.Empty, limits);
        for (int length = 1; length <= bytes.Length && outcome.Status == ParseStatus.Incomplete; length++)
        {
            if (bytes.Length <= 1024 || length < 64 || length > bytes.Length - 64 || length % 17 == 0)
            {
                outcome = ParseOnce(all.Slice(0, length), limits);
            }
        }
        return outcome;
    }

    private static void AssertSameHead(HttpRequestHead expected, HttpRequestHead actual)
    {
        Assert.Equal(expected.Method, actual.Method);
        Assert.Equal(expected.Target, actual.Target);
        Assert.Equal(expected.Authority, actual.Authority);
        Assert.Equal(expected.MinorVersion, actual.MinorVersion);
        Assert.Equal(expected.Framing, actual.Framing);
        Assert.Equal(expected.ContentLength, actual.ContentLength);
        Assert.Equal(expected.KeepAlive, actual.KeepAlive);
        Assert.Equal(expected.ExpectContinue, actual.ExpectContinue);
        Assert.Equal(expected.Headers.Count, actual.Headers.Count);
        for (int i = 0; i < expected.Headers.Count; i++)
        {
            Assert.Equal(expected.Headers[i], actual.Headers[i]);
        }
    }
}

/// <summary>Assertions for rule tests; every vector goes through <see cref="RequestVector.Parse(string, HttpLimits?)"/>.</summary>
internal static class Request
{
    public static HttpRequestHead Accepted(string text, HttpLimits? limits = null)
    {
        RequestOutcome outcome = RequestVector.Parse(text, limits);
        Assert.True(outcome.Status == ParseStatus.Complete, $"expected acceptance, got {outcome.Status} {outcome.Rejection}");
        return outcome.Head;
    }

    public static void Rejected(string text, RequestRejection reason, int status, HttpLimits? limits = null)
    {
        RequestOutcome outcome = RequestVector.Parse(text, limits);
        Assert.Equal(ParseStatus.Rejected, outcome.Status);
        Assert.Equal(reason, outcome.Rejection);
        Assert.Equal(status, outcome.StatusCode);
    }

    public static void Incomplete(string text, HttpLimits? limits = null)
    {
        RequestOutcome outcome = RequestVector.Parse(text, limits);
        Assert.Equal(ParseStatus.Incomplete, outcome.Status);
    }
}
