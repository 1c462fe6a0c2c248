using System.Net;
using Gateway.Http.Messages;
using Gateway.Proxy.Forwarding;

namespace Gateway.Proxy.Tests;

public sealed class ForwardingHeadersTests
{
    private static HeaderCollection Headers(params (string Name, string Value)[] fields)
    {
        var h = new HeaderCollection();
        foreach (var (n, v) in fields)
        {
            h.Add(n, v);
        }
        return h;
    }

    [Fact]
    public void RemoveHopByHop_DropsFixedAndNominatedFields()
    {
        var h = Headers(("connection", "keep-alive, x-private"), ("x-private", "1"), ("keep-alive", "timeout=5"),
            ("te", "trailers"), ("upgrade", "h2c"), ("proxy-authorization", "secret"), ("x-keep", "yes"));
        Assert.True(ForwardingHeaders.RemoveHopByHop(h));
        Assert.Equal(1, h.Count);
        Assert.Equal("yes", h.Get("x-keep"));
    }

    [Theory]
    [InlineData("close, x-forwarded-for")]
    [InlineData("host")]
    [InlineData("Content-Length")]
    [InlineData("authorization")]
    [InlineData("bad option")]
    public void RemoveHopByHop_OptionNamingProtectedOrInvalidField_Refused(string connection)
    {
        // HOP-3: a client cannot use Connection to strip framing, routing or gateway-owned fields.
        Assert.False(ForwardingHeaders.RemoveHopByHop(Headers(("connection", connection))));
    }

    [Fact]
    public void RemoveClientFields_DropsWhatOnlyTheGatewaySetsAndKeepsAUsableRequestId()
    {
        var h = Headers(("x-forwarded-for", "6.6.6.6"), ("x-keep", "1"), ("x-forwarded-host", "evil"), ("forwarded", "for=1.1.1.1"),
            ("x-request-id", "abc-123"), ("x-forwarded-proto", "https"), ("x-request-id", "second"), ("x-forwarded-port", "1"));
        Assert.Equal("abc-123", ForwardingHeaders.RemoveClientFields(h));
        Assert.Equal([("x-keep", "1"), ("x-request-id", "abc-123")],
            Enumerable.Range(0, h.Count).Select(i => (h[i].Key, h[i].Value)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("quote\"injection")]
    [InlineData("long")]
    public void RemoveClientFields_UnusableRequestId_IsRemoved(string given)
    {
        if (given == "long")
        {
            given = new string('a', 129);
        }
        var h = Headers(("x-request-id", given), ("x-keep", "1"));
        Assert.Null(ForwardingHeaders.RemoveClientFields(h));
        Assert.Equal(1, h.Count);
        Assert.Equal("1", h.Get("x-keep"));
    }

    [Fact]
    public void ForwardedFor_IsTheClientsAddress_WithoutTheIPv6MappingOfAnIPv4One()
    {
        Assert.Equal("10.1.2.3", ForwardingHeaders.ForwardedFor(IPAddress.Parse("::ffff:10.1.2.3")));
        Assert.Equal("::1", ForwardingHeaders.ForwardedFor(IPAddress.IPv6Loopback));
        Assert.Equal("unknown", ForwardingHeaders.ForwardedFor(null));
    }
}
