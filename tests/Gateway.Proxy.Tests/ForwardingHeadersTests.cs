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
    public void AddRequestFields_ReplacesClientForwardingFieldsAndKeepsValidRequestId()
    {
        var h = Headers(("x-forwarded-for", "6.6.6.6"), ("x-forwarded-host", "evil"), ("forwarded", "for=1.1.1.1"), ("x-request-id", "abc-123"));
        string id = ForwardingHeaders.AddRequestFields(h, IPAddress.Parse("::ffff:10.1.2.3"), "http");
        Assert.Equal("abc-123", id);
        Assert.Equal("10.1.2.3", h.Get("x-forwarded-for"));
        Assert.Equal("http", h.Get("x-forwarded-proto"));
        Assert.Null(h.Get("x-forwarded-host"));
        Assert.Null(h.Get("forwarded"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("quote\"injection")]
    public void AddRequestFields_UnusableRequestId_IsRegenerated(string given)
    {
        var h = Headers(("x-request-id", given));
        string id = ForwardingHeaders.AddRequestFields(h, IPAddress.Loopback, "http");
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(id, h.Get("x-request-id"));
    }
}
