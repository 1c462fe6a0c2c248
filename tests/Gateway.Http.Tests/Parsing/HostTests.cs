using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Rules H-1 to H-5 of docs/http1-rules.md.</summary>
public class HostTests
{
    [Fact]
    public void H1_Http11WithoutHost_Rejected() =>
        Request.Rejected("GET / HTTP/1.1\r\nX: y\r\n\r\n", RequestRejection.MissingHost, 400);

    [Fact]
    public void H1_Http10WithoutHostOrAuthority_Rejected() =>
        Request.Rejected("GET / HTTP/1.0\r\n\r\n", RequestRejection.MissingHost, 400);

    [Fact]
    public void H1_Http10AbsoluteFormWithoutHost_UsesTargetAuthority() =>
        Assert.Equal("b.test", Request.Accepted("GET http://b.test/ HTTP/1.0\r\n\r\n").Authority);

    [Fact]
    public void H1_Http11AbsoluteFormWithoutHost_Rejected() =>
        Request.Rejected("GET http://b.test/ HTTP/1.1\r\n\r\n", RequestRejection.MissingHost, 400);

    [Fact]
    public void H2_TwoHostLines_Rejected() =>
        Request.Rejected("GET / HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n", RequestRejection.DuplicateHost, 400);

    [Theory]
    [InlineData("a.test, b.test")]
    [InlineData("a.test,b.test")]
    [InlineData("a.test,")]
    public void H2_CommaListInOneLine_Rejected(string value) =>
        Request.Rejected($"GET / HTTP/1.1\r\nHost: {value}\r\n\r\n", RequestRejection.InvalidHost, 400);

    [Theory]
    [InlineData("a.test:99999")]
    [InlineData("a.test:65536")]
    [InlineData("a.test:123456")]
    [InlineData("a.test:")]
    [InlineData("a.test:8o")]
    [InlineData("a.test:-1")]
    [InlineData("user@a.test")]
    [InlineData("a.test/x")]
    [InlineData("a test")]
    [InlineData("")]
    [InlineData(":80")]
    [InlineData("[::1")]
    [InlineData("[]")]
    [InlineData("[::1]x")]
    [InlineData("[::g]")]
    [InlineData("a%zz.test")]
    [InlineData("a.test?x")]
    [InlineData("a.test#x")]
    [InlineData("caf\u00e9.test")]
    public void H3_InvalidHostValue_Rejected(string value) =>
        Request.Rejected($"GET / HTTP/1.1\r\nHost: {value}\r\n\r\n", RequestRejection.InvalidHost, 400);

    [Theory]
    [InlineData("A.Test", "a.test")]
    [InlineData("A.TEST:8080", "a.test:8080")]
    [InlineData("10.0.0.1:65535", "10.0.0.1:65535")]
    [InlineData("[::1]", "[::1]")]
    [InlineData("[2001:DB8::1]:443", "[2001:db8::1]:443")]
    [InlineData("xn--caf-dma.test", "xn--caf-dma.test")]
    [InlineData("a%41.test", "a%41.test")]
    public void H3_ValidHost_LowerCased(string value, string authority) =>
        Assert.Equal(authority, Request.Accepted($"GET / HTTP/1.1\r\nHost: {value}\r\n\r\n").Authority);

    [Fact]
    public void H4_AbsoluteFormAuthorityDiffersFromHost_Rejected() =>
        Request.Rejected("GET http://b.test/x HTTP/1.1\r\nHost: a.test\r\n\r\n", RequestRejection.HostMismatch, 400);

    [Theory]
    [InlineData("GET http://B.test/x HTTP/1.1", "b.test", "/x", "http")]
    [InlineData("GET HTTPS://b.test:443/x HTTP/1.1", "b.test", "/x", "https")]
    [InlineData("GET http://b.test:80 HTTP/1.1", "b.test", "/", "http")]
    [InlineData("GET http://b.test?q=1 HTTP/1.1", "b.test", "/?q=1", "http")]
    [InlineData("OPTIONS http://b.test HTTP/1.1", "b.test", "*", "http")]
    public void H4_AbsoluteFormMatchingHost_OriginFormAndTargetAuthority(string line, string host, string target, string scheme)
    {
        var head = Request.Accepted(line + "\r\nHost: " + host + "\r\n\r\n");
        Assert.Equal(target, head.Target);
        Assert.Equal(scheme, head.Scheme);
        Assert.StartsWith(host, head.Authority, StringComparison.Ordinal);
        Assert.False(head.Headers.Contains("host"));
    }

    [Theory]
    [InlineData("GET http://user@b.test/ HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET http://user:pw@b.test/ HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET http:///x HTTP/1.1", RequestRejection.InvalidHost)]
    [InlineData("GET http://b.test:99999/ HTTP/1.1", RequestRejection.InvalidHost)]
    [InlineData("GET http://b.test/a#b HTTP/1.1", RequestRejection.InvalidTarget)]
    [InlineData("GET ws://b.test/ HTTP/1.1", RequestRejection.InvalidTarget)]
    public void H4_AbsoluteFormWithBadAuthorityOrScheme_Rejected(string line, RequestRejection reason) =>
        Request.Rejected(line + "\r\nHost: b.test\r\n\r\n", reason, 400);

    [Fact]
    public void H5_OneEffectiveAuthority_HostNotLeftInHeaders()
    {
        var head = Request.Accepted("GET / HTTP/1.1\r\nX-A: 1\r\nHost: API.Example.COM:8443\r\n\r\n");
        Assert.Equal("api.example.com:8443", head.Authority);
        Assert.False(head.Headers.Contains("host"));
        Assert.Equal(1, head.Headers.Count);
    }

    /// <summary>
    /// A connection's head remembers the Host it last validated and takes identical bytes as that authority; anything
    /// else, a different case included, is validated and lower-cased as on a first request.
    /// </summary>
    [Fact]
    public void H3_RepeatedHostOnOneConnection_SameAuthorityAndSameVerdicts()
    {
        var head = new HttpRequestHead();
        Assert.Equal(RequestRejection.None, ParseInto(head, "A.Test:8080"));
        string first = head.Authority;
        Assert.Equal("a.test:8080", first);

        Assert.Equal(RequestRejection.None, ParseInto(head, "a.test:8080"));
        Assert.Same(first, head.Authority);

        Assert.Equal(RequestRejection.None, ParseInto(head, "B.test"));
        Assert.Equal("b.test", head.Authority);

        Assert.Equal(RequestRejection.InvalidHost, ParseInto(head, "b.test, b.test"));
        Assert.Equal(RequestRejection.InvalidHost, ParseInto(head, "b.test:99999"));
        Assert.Equal(RequestRejection.None, ParseInto(head, "b.test"));
        Assert.Equal("b.test", head.Authority);
    }

    private static RequestRejection ParseInto(HttpRequestHead head, string host)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n")));
        RequestHeadParser.TryParse(ref reader, RequestVector.DefaultLimits, head, out RequestRejection rejection);
        return rejection;
    }
}
