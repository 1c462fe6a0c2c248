using System.Text;
using Gateway.Perf.Load;

namespace Gateway.Perf.Tests;

/// <summary>The request bytes the loaders send: the fixed head, and the one header whose value is new per request.</summary>
public sealed class RequestTemplateTests
{
    [Fact]
    public void FixedRequest_IsTheHeadWithItsHeaders()
    {
        var template = new RequestTemplate("127.0.0.1", 8080, "/items?a=1", [new("Accept", "*/*"), new("X-Trace", "t")]);

        Assert.Equal("GET /items?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\nX-Trace: t\r\n\r\n", Written(template, 7));
    }

    [Fact]
    public void VaryingHeader_CarriesTheStartPlusTheRequestNumber()
    {
        var template = new RequestTemplate("10.0.0.1", 80, "/", [], "X-Api-Key", "key-", 500);

        Assert.Equal("GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\nX-Api-Key: key-500\r\n\r\n", Written(template, 0));
        Assert.Equal("GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\nX-Api-Key: key-512\r\n\r\n", Written(template, 12));
    }

    [Fact]
    public void LargestRequestNumber_FitsInMaxLength()
    {
        var template = new RequestTemplate("127.0.0.1", 1, "/", [], "K", "p");
        var buffer = new byte[template.MaxLength];

        var length = template.Write(buffer, long.MaxValue);

        Assert.EndsWith($"K: p{long.MaxValue}\r\n\r\n", Encoding.ASCII.GetString(buffer, 0, length));
    }

    private static string Written(RequestTemplate template, long index)
    {
        var buffer = new byte[template.MaxLength];
        return Encoding.ASCII.GetString(buffer, 0, template.Write(buffer, index));
    }
}
