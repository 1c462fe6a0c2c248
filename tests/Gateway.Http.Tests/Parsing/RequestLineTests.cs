using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Rules RL-1 to RL-7 of docs/http1-rules.md (RL-8 concerns route rewrites, not parsing).</summary>
public class RequestLineTests
{
    private static string With(string requestLine) => requestLine + "\r\nHost: a.test\r\n\r\n";

    [Fact]
    public void SimpleGet_FillsHead()
    {
        RequestOutcome outcome = RequestVector.Parse("GET /a?b=c HTTP/1.1\r\nHost: A.Test\r\nAccept: */*\r\n\r\nNEXT");
        Assert.Equal(ParseStatus.Complete, outcome.Status);
        Assert.Equal("GET", outcome.Head.Method);
        Assert.Equal("/a?b=c", outcome.Head.Target);
        Assert.Equal("a.test", outcome.Head.Authority);
        Assert.Equal(1, outcome.Head.MinorVersion);
        Assert.True(outcome.Head.KeepAlive);
        Assert.Equal(BodyFraming.None, outcome.Head.Framing);
        Assert.Equal(1, outcome.Head.Headers.Count);
        Assert.Equal(new KeyValuePair<string, string>("accept", "*/*"), outcome.Head.Headers[0]);
        Assert.Equal(50, outcome.Consumed);
    }

    [Theory]
    [InlineData("GET  / HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET\t/ HTTP/1.1", RequestRejection.InvalidMethod)]
    [InlineData("GET / HTTP/1.1 ", RequestRejection.InvalidVersion)]
    [InlineData("GET /  HTTP/1.1", RequestRejection.InvalidVersion)]
    [InlineData("GET /admin? HTTP/1.1 /static/x HTTP/1.1", RequestRejection.InvalidVersion)]
    [InlineData("GET /\tHTTP/1.1", RequestRejection.InvalidRequestLine)]
    [InlineData("GET /\u000b HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET /\u000c HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET / \u000bHTTP/1.1", RequestRejection.InvalidVersion)]
    [InlineData(" GET / HTTP/1.1", RequestRejection.InvalidRequestLine)]
    public void RL1_SeparatorOtherThanSingleSp_Rejected(string line, RequestRejection reason) =>
        Request.Rejected(With(line), reason, 400);

    [Fact]
    public void RL1_SingleSpSeparators_Accepted() =>
        Assert.Equal("/x", Request.Accepted(With("GET /x HTTP/1.1")).Target);

    [Theory]
    [InlineData("bad_method\u0001 / HTTP/1.1")]
    [InlineData("G@T / HTTP/1.1")]
    [InlineData("GE(T / HTTP/1.1")]
    [InlineData("G\u00c9T / HTTP/1.1")]
    public void RL2_NonTokenMethod_Rejected400(string line) =>
        Request.Rejected(With(line), RequestRejection.InvalidMethod, 400);

    [Theory]
    [InlineData("get / HTTP/1.1")]
    [InlineData("Get / HTTP/1.1")]
    [InlineData("CONNECT a.test:443 HTTP/1.1")]
    [InlineData("PROPFIND / HTTP/1.1")]
    [InlineData("VERYLONGMETHODNAMEINDEED / HTTP/1.1")]
    public void RL2_ValidTokenNotImplemented_Rejected501(string line) =>
        Request.Rejected(With(line), RequestRejection.MethodNotImplemented, 501);

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    [InlineData("TRACE")]
    public void RL2_ImplementedMethod_AcceptedAndInterned(string method)
    {
        HttpRequestHead head = Request.Accepted(With(method + " / HTTP/1.1"));
        Assert.Equal(method, head.Method);
        Assert.Same(string.IsInterned(method), head.Method);
    }

    [Theory]
    [InlineData("GET / http/1.1")]
    [InlineData("GET / HTTP/1.01")]
    [InlineData("GET / HTTP/11.1")]
    [InlineData("GET / HTTP/1")]
    [InlineData("GET / HTTP/1.1 HTTP/1.1")]
    [InlineData("GET / HTTP/1.x")]
    [InlineData("GET / HTTPS/1.1")]
    [InlineData("GET / HTTP/1,1")]
    public void RL3_MalformedVersion_Rejected400(string line) =>
        Request.Rejected(With(line), RequestRejection.InvalidVersion, 400);

    [Theory]
    [InlineData("GET / HTTP/2.0")]
    [InlineData("GET / HTTP/0.9")]
    [InlineData("GET / HTTP/3.1")]
    public void RL3_OtherMajorVersion_Rejected505(string line) =>
        Request.Rejected(With(line), RequestRejection.VersionNotSupported, 505);

    [Fact]
    public void RL3_MissingVersion_Rejected400() =>
        Request.Rejected(With("GET /path"), RequestRejection.InvalidRequestLine, 400);

    [Theory]
    [InlineData("HTTP/1.1", 1)]
    [InlineData("HTTP/1.0", 0)]
    [InlineData("HTTP/1.2", 1)]
    [InlineData("HTTP/1.9", 1)]
    public void RL3_Http1MinorVersions_AcceptedAs10Or11(string version, int minor) =>
        Assert.Equal(minor, Request.Accepted(With("GET / " + version)).MinorVersion);

    [Theory]
    [InlineData("GET * HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET a.test:443 HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET  HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET a/b HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET ftp://a.test/x HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET //a.test/x HTTP/1.1", RequestRejection.None)]
    [InlineData("POST *x HTTP/1.1", RequestRejection.InvalidTarget)]
    public void RL4_TargetFormNotMatchingMethod_Rejected(string line, RequestRejection reason)
    {
        if (reason == RequestRejection.None)
        {
            // "//a.test/x" is an origin-form path whose first segment is empty, not an authority.
            Assert.Equal("//a.test/x", Request.Accepted(With(line)).Target);
            return;
        }
        Request.Rejected(With(line), reason, 400);
    }

    [Fact]
    public void RL4_OptionsAsterisk_Accepted() =>
        Assert.Equal("*", Request.Accepted(With("OPTIONS * HTTP/1.1")).Target);

    [Fact]
    public void RL4_AbsoluteForm_ReducedToOriginForm()
    {
        HttpRequestHead head = Request.Accepted("GET http://A.Test:8080/x?y HTTP/1.1\r\nHost: a.test:8080\r\n\r\n");
        Assert.Equal("/x?y", head.Target);
        Assert.Equal("a.test:8080", head.Authority);
        Assert.Equal("http", head.Scheme);
    }

    [Theory]
    [InlineData("/a#.png")]
    [InlineData("/a#")]
    [InlineData("/%zz")]
    [InlineData("/%4")]
    [InlineData("/a%")]
    [InlineData("/a\"b")]
    [InlineData("/a<b>")]
    [InlineData("/a\\b")]
    [InlineData("/a^b")]
    [InlineData("/a`b")]
    [InlineData("/a{b}")]
    [InlineData("/a|b")]
    [InlineData("/a[b]")]
    [InlineData("/a\u007fb")]
    [InlineData("/a\u0001b")]
    [InlineData("/\u00d1\u0081")]
    [InlineData("/caf\u00e9")]
    public void RL5_OctetOutsideRfc3986_Rejected(string target) =>
        Request.Rejected(With("GET " + target + " HTTP/1.1"), RequestRejection.InvalidTarget, 400);

    [Fact]
    public void RL5_TabInTarget_Rejected() =>
        Request.Rejected(With("GET /a\tb HTTP/1.1"), RequestRejection.InvalidTarget, 400);

    [Theory]
    [InlineData("/%0A")]
    [InlineData("/path-%09-uri")]
    [InlineData("/a%20b?c=%2F%2e%00")]
    [InlineData("/a-b._~!$&'()*+,;=:@/c?q=/?x&y=%41")]
    public void RL5_EncodedOrAllowedOctets_AcceptedByteForByte(string target) =>
        Assert.Equal(target, Request.Accepted(With("GET " + target + " HTTP/1.1")).Target);

    [Fact]
    public void RL6_TargetOverLimit_Rejected414()
    {
        var limits = new HttpLimits { MaxRequestLineBytes = 64 };
        string target = "/" + new string('a', 60);
        Request.Rejected(With("GET " + target + " HTTP/1.1"), RequestRejection.TargetTooLong, 414, limits);
    }

    [Fact]
    public void RL6_RequestLineWithoutCrlfPastLimit_Rejected414WhileIncomplete()
    {
        var limits = new HttpLimits { MaxRequestLineBytes = 64 };
        Request.Rejected("GET /" + new string('a', 100), RequestRejection.TargetTooLong, 414, limits);
    }

    [Fact]
    public void RL6_RequestLineAtLimit_Accepted()
    {
        var limits = new HttpLimits { MaxRequestLineBytes = 64 };
        string target = "/" + new string('a', 64 - "GET  HTTP/1.1".Length - 1);
        Assert.Equal(64, ("GET " + target + " HTTP/1.1").Length);
        Assert.Equal(target, Request.Accepted(With("GET " + target + " HTTP/1.1"), limits).Target);
    }

    [Fact]
    public void RL6_DefaultLimit_SupportsAtLeast8000Octets()
    {
        string target = "/" + new string('a', 8000 - "GET  HTTP/1.1".Length - 1);
        RequestOutcome outcome = RequestVector.ParseOnce(ByteSegments.Whole(ByteSegments.Latin1(With("GET " + target + " HTTP/1.1"))), RequestVector.DefaultLimits);
        Assert.Equal(ParseStatus.Complete, outcome.Status);
    }

    [Theory]
    [InlineData("/a%00b")]
    [InlineData("/a%252Fb")]
    [InlineData("/a%252e%252e/b")]
    public void RL7_PathChangingWithEachDecoding_Rejected(string target) =>
        Request.Rejected(With("GET " + target + " HTTP/1.1"), RequestRejection.AmbiguousPath, 400);

    /// <summary>Dot segments and encoded slashes reach the proxy, which normalizes (or refuses) them before routing.</summary>
    [Theory]
    [InlineData("/a/../b")]
    [InlineData("/a/./b")]
    [InlineData("/%2e%2e/x")]
    [InlineData("/a%2Fb")]
    [InlineData("/a%5Cb")]
    public void RL7_PathResolvedBeforeRouting_PassesTheParserUnchanged(string target) =>
        Assert.Equal(target, Request.Accepted(With("GET " + target + " HTTP/1.1")).Target);

    [Theory]
    [InlineData("/a/b..c/.d/...")]
    [InlineData("/a?x=../..%2F%00")]
    [InlineData("/100%25")]
    [InlineData("/a%25zz")]
    public void RL7_PathWithOneMeaning_Accepted(string target) =>
        Assert.Equal(target, Request.Accepted(With("GET " + target + " HTTP/1.1")).Target);
}
