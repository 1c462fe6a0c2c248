using System.Buffers;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;
using Gateway.Http.Tests.Parsing;

namespace Gateway.Http.Tests.Corpus;

/// <summary>
/// Every request-smuggling case of tests/data/http-desync. The parser must either reject a case or accept exactly
/// one request with unambiguous framing; Ambiguous and Severe cases must always be rejected.
/// </summary>
public class DesyncCorpusTests
{
    private const string Probe = "0\r\n\r\nGET /__desync_probe HTTP/1.1\r\nHost: probe.test\r\n\r\n";
    private const string Followup = "GET /__followup HTTP/1.1\r\nHost: gw.test\r\n\r\n";

    /// <summary>
    /// Compliant cases the gateway's stricter rules reject, with their status: a coding other than chunked is 501,
    /// a parameter on chunked and a target with bytes outside the request-target grammar (or none) are 400.
    /// </summary>
    private static readonly Dictionary<(string File, string Name), int> s_strictRejections = new()
    {
        [("rfc-compliant.yaml", "Different Transfer-Encoding headers")] = 501,
        [("rfc-compliant.yaml", "Different Transfer-Encoding headers combined")] = 501,
        [("rfc-compliant.yaml", "Transfer-Encoding with a param: chunked;custom_param")] = 400,
        [("rfc-compliant.yaml", "Compliant URL")] = 400,
        [("rfc-compliant.yaml", "International in URI")] = 400,
        [("rfc-compliant.yaml", "Empty URI")] = 400,
        [("more-compliant-tests.yaml", "Correct TE OK")] = 501,
        [("more-compliant-tests.yaml", "Transfer-Encoding: identity and chunked OK")] = 501,
        [("more-compliant-tests.yaml", "Multiple transfer encoding headers in a single request OK")] = 501,
        [("more-compliant-tests.yaml", "TE with custom parameters OK")] = 400,
    };

    /// <summary>Ambiguous only because GET or HEAD carries a body: forwarded as one request with its framing.</summary>
    private static readonly HashSet<(string File, string Name)> s_bodyOnGetOrHead =
    [
        ("ambiguous.yaml", "Get with a body and Content-Length"),
        ("ambiguous.yaml", "Get with a body and Transfer-Encoding"),
        ("ambiguous.yaml", "Head with a body and Content-Length"),
        ("ambiguous.yaml", "Head with a body and Transfer-Encoding"),
        ("real-life-test-cases.yaml", "Has a CL in GET"),
        ("real-life-test-cases.yaml", "Has a TE in GET"),
    ];

    private static readonly Lazy<IReadOnlyList<DesyncCase>> s_cases = new(DesyncCorpus.Load);

    public static TheoryData<string, int, string> Cases()
    {
        var data = new TheoryData<string, int, string>();
        foreach (DesyncCase c in s_cases.Value)
        {
            data.Add(c.File, c.Index, c.Name);
        }
        return data;
    }

    [Fact]
    public void Corpus_CopiedBesideTheTests_AllCasesLoaded()
    {
        Assert.Equal(DesyncCorpus.ExpectedCaseCount, s_cases.Value.Count);
        Assert.Equal(58, s_cases.Value.Count(c => c.Tier == "Severe"));
        Assert.Equal(58, s_cases.Value.Count(c => c.Tier == "Ambiguous"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CorpusCase_RejectedOrOneUnambiguousRequest(string file, int index, string name)
    {
        DesyncCase c = s_cases.Value[s_cases.Value.ToList().FindIndex(x => x.File == file && x.Index == index)];
        Assert.Equal(name, c.Name);

        foreach (bool utf8 in new[] { false, true })
        {
            byte[] head = c.Serialize(utf8);
            int? rejectStatus = ExpectedRejection(c);
            if (rejectStatus is not null)
            {
                AssertRejected(c, head, rejectStatus.Value);
            }
            else
            {
                AssertOneRequest(c, head);
            }
        }
    }

    /// <summary>
    /// The status a case must be refused with (0: any of 400, 501, 505), or null when it must be accepted. Of the
    /// Acceptable cases only a GET/HEAD with Content-Length: 0 and HTTP/1.2 (a later minor version) pass.
    /// </summary>
    private static int? ExpectedRejection(DesyncCase c)
    {
        switch (c.Tier)
        {
            case "Severe":
                return 0; // any rejection status of AllowedRejectStatuses
            case "Ambiguous":
                // A body on GET or HEAD is forwarded with the gateway's own framing (only TRACE refuses one), as Envoy
                // does; every other ambiguous case is rejected.
                return s_bodyOnGetOrHead.Contains((c.File, c.Name)) ? null : 0;
            case "Acceptable":
                bool accepted = c.Reason == "GetHeadZeroContentLength" || c.Version == "HTTP/1.2";
                return accepted ? null : 0;
            case "Compliant":
                return s_strictRejections.TryGetValue((c.File, c.Name), out int status) ? status : null;
            default:
                throw new InvalidDataException($"Unknown tier {c.Tier} in {c}");
        }
    }

    private static void AssertRejected(DesyncCase c, byte[] head, int expectedStatus)
    {
        // On the head alone, and with a chunked terminator plus a smuggled request behind it.
        byte[] withProbe = [.. head, .. ByteSegments.Latin1(Probe)];
        RequestOutcome alone = RequestVector.Parse(head);
        RequestOutcome probed = RequestVector.Parse(withProbe);

        Assert.True(alone.Status == ParseStatus.Rejected, $"{c}: expected a rejection, got {alone.Status} ({Describe(alone)})");
        Assert.Equal(alone.Rejection, probed.Rejection);
        if (expectedStatus != 0)
        {
            Assert.Equal(expectedStatus, alone.StatusCode);
        }
        else
        {
            Assert.True(alone.StatusCode is 400 or 501 or 505, $"{c}: status {alone.StatusCode} for {alone.Rejection}");
        }
    }

    private static void AssertOneRequest(DesyncCase c, byte[] head)
    {
        RequestOutcome outcome = RequestVector.Parse(head);
        Assert.True(outcome.Status == ParseStatus.Complete, $"{c}: expected acceptance, got {outcome.Rejection}");
        Assert.Equal(head.Length, outcome.Consumed);

        // Exactly one framing, derived from the validated head.
        string? te = c.HeaderValue("Transfer-Encoding");
        string? cl = c.HeaderValue("Content-Length");
        byte[] body;
        if (te is not null)
        {
            Assert.Null(cl);
            Assert.Equal(BodyFraming.Chunked, outcome.Head.Framing);
            body = ByteSegments.Latin1("5\r\nhello\r\n0\r\n\r\n");
        }
        else if (cl is not null && long.Parse(cl.Trim(' ', '\t'), System.Globalization.CultureInfo.InvariantCulture) > 0)
        {
            Assert.Equal(BodyFraming.ContentLength, outcome.Head.Framing);
            body = new byte[outcome.Head.ContentLength];
            Array.Fill(body, (byte)'b');
        }
        else
        {
            Assert.Equal(BodyFraming.None, outcome.Head.Framing);
            body = [];
        }
        Assert.False(outcome.Head.Headers.Contains("transfer-encoding"));
        Assert.False(outcome.Head.Headers.Contains("content-length"));
        Assert.False(outcome.Head.Headers.Contains("host"));

        // The body, then a legitimate follow-up on the same connection: the next request starts exactly after it.
        byte[] stream = [.. head, .. body, .. ByteSegments.Latin1(Followup)];
        foreach (ReadOnlySequence<byte> sequence in new[] { ByteSegments.Whole(stream), ByteSegments.OnePerByte(stream) })
        {
            var reader = new SequenceReader<byte>(sequence);
            var first = new HttpRequestHead();
            Assert.Equal(ParseStatus.Complete, RequestHeadParser.TryParse(ref reader, RequestVector.DefaultLimits, first, out _));
            SkipBody(ref reader, first);
            var next = new HttpRequestHead();
            Assert.Equal(ParseStatus.Complete, RequestHeadParser.TryParse(ref reader, RequestVector.DefaultLimits, next, out _));
            Assert.Equal("/__followup", next.Target);
            Assert.True(reader.End, $"{c}: bytes left after the follow-up request");
        }
    }

    private static void SkipBody(ref SequenceReader<byte> reader, HttpRequestHead head)
    {
        switch (head.Framing)
        {
            case BodyFraming.ContentLength:
                reader.Advance(head.ContentLength);
                break;
            case BodyFraming.Chunked:
                var decoder = new ChunkedDecoder();
                var trailers = new HeaderCollection();
                long payload = 0;
                ChunkStatus status;
                while ((status = decoder.Decode(ref reader, RequestVector.DefaultLimits.MaxBodyBytes, trailers, out ReadOnlySequence<byte> data, out _)) == ChunkStatus.Data)
                {
                    payload += data.Length;
                }
                Assert.Equal(ChunkStatus.Complete, status);
                Assert.Equal(5, payload);
                break;
        }
    }

    private static string Describe(RequestOutcome outcome) =>
        outcome.Status == ParseStatus.Complete
            ? $"{outcome.Head.Method} {outcome.Head.Target} framing {outcome.Head.Framing}"
            : outcome.Rejection.ToString();
}
