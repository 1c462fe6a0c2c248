using System.Net;
using Gateway.Proxy.Routing;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Tests;

public sealed class RouteTableTests
{
    private static RouteTable Table(params RouteOptions[] routes)
    {
        var cluster = new Cluster(0, new ClusterOptions { Name = "c", Endpoints = [new DnsEndPoint("127.0.0.1", 1)] });
        return new RouteTable(routes, new Dictionary<string, Cluster> { ["c"] = cluster });
    }

    [Theory]
    [InlineData("api.example.com", "/", "wild")]
    [InlineData("a.b.example.com:8443", "/", "wild")]
    [InlineData("example.com", "/", "rest")]
    [InlineData("notexample.com", "/", "rest")]
    [InlineData("exact.test", "/v1/items", "exact-host")]
    [InlineData("other.test", "/health", "exact-path")]
    [InlineData("other.test", "/health/deep", "rest")]
    [InlineData("[::1]:8080", "/x", "rest")]
    public void Match_FirstMatchingRouteWins(string authority, string path, string expected)
    {
        var table = Table(
            new RouteOptions { Name = "exact-path", Path = "/health", Cluster = "c" },
            new RouteOptions { Name = "wild", Host = "*.example.com", Cluster = "c" },
            new RouteOptions { Name = "exact-host", Host = "exact.test", PathPrefix = "/v1/", Cluster = "c" },
            new RouteOptions { Name = "rest", PathPrefix = "/", Cluster = "c" });
        Assert.Equal(expected, table.Match(authority, path)?.Name ?? "none");
    }

    [Fact]
    public void Match_NoRoute_ReturnsNull()
    {
        var table = Table(new RouteOptions { Name = "api", PathPrefix = "/api/", Cluster = "c" });
        Assert.Null(table.Match("a.test", "/other"));
        Assert.Null(table.Match("a.test", "/api"));
        Assert.NotNull(table.Match("a.test", "/api/x"));
    }
}
