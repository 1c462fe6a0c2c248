using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>
/// Requests are routed on their normalized path, and that path is what the upstream receives: variants of
/// <c>/api/x</c> can no longer slip past the <c>/api/</c> route (and its plugins) to a catch-all route.
/// </summary>
public sealed class PathNormalizationTests
{
    private static string Config(string api, string other, string paths = "", string apiMatch = "") => $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          {{(paths.Length > 0 ? $"\"paths\": {{ {paths} }}," : "")}}
          "clusters": { "api": { "endpoints": ["{{api}}"] }, "other": { "endpoints": ["{{other}}"] } },
          "routes": [
            { "name": "api", "match": { "pathPrefix": "/api/" {{apiMatch}} }, "cluster": "api" },
            { "name": "catch-all", "match": { "pathPrefix": "/" }, "cluster": "other" }
          ]
        }
        """;

    [Theory]
    [InlineData("/%61pi/x")]
    [InlineData("//api/x")]
    [InlineData("/api//x")]
    [InlineData("/static/../api/x")]
    [InlineData("/%2e%2e/api/x")]
    [InlineData("/./api/./x")]
    [InlineData("/%2Fapi/x")] // merged only when unescaped: refused below, so this stays out of the catch-all
    public async Task PathVariantOfApi_NeverReachesTheCatchAll(string target)
    {
        await using var api = new TestUpstream();
        await using var other = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(api.Endpoint, other.Endpoint));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get(target));
        var response = await client.ReadResponseAsync();
        Assert.NotNull(response);
        Assert.Empty(other.Requests);
        if (target.Contains("%2F", StringComparison.Ordinal))
        {
            Assert.Equal(400, response.Status);
            Assert.Empty(api.Requests);
            return;
        }
        Assert.Equal(200, response.Status);
        Assert.Equal("GET /api/x HTTP/1.1", Assert.Single(api.Requests).RequestLine);
    }

    [Theory]
    [InlineData("/api%2Fx")]
    [InlineData("/api/a%5c..%5c..%5cadmin")]
    public async Task EncodedSlashOrBackslash_400ByDefault_LoggedOnce(string target)
    {
        await using var api = new TestUpstream();
        await using var other = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(api.Endpoint, other.Endpoint));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get(target));
        var response = await client.ReadResponseAsync();
        Assert.Equal(400, response!.Status);
        Assert.Empty(api.Requests);
        Assert.Empty(other.Requests);
        Assert.Single(await gateway.WaitForLogAsync("EscapedSlash"));
    }

    [Fact]
    public async Task EscapedSlashesKeep_ForwardedEncoded()
    {
        await using var api = new TestUpstream();
        await using var other = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(api.Endpoint, other.Endpoint, paths: "\"escapedSlashes\": \"keep\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/api/a%2fb/%61"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal("GET /api/a%2Fb/a HTTP/1.1", Assert.Single(api.Requests).RequestLine);
    }

    [Fact]
    public async Task EscapedSlashesUnescape_DecodedThenRouted()
    {
        await using var api = new TestUpstream();
        await using var other = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(api.Endpoint, other.Endpoint, paths: "\"escapedSlashes\": \"unescape\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/static%2F..%2Fapi%5Cx?q=%2F"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal("GET /api/x?q=%2F HTTP/1.1", Assert.Single(api.Requests).RequestLine);
        Assert.Empty(other.Requests);
    }

    [Fact]
    public async Task MergeSlashesOff_DoubleSlashIsAnotherPath()
    {
        await using var api = new TestUpstream();
        await using var other = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(api.Endpoint, other.Endpoint, paths: "\"mergeSlashes\": false"));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("//api/x"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal("GET //api/x HTTP/1.1", Assert.Single(other.Requests).RequestLine);
    }

    [Fact]
    public async Task CaseInsensitiveRoute_MatchesAnyCase_ForwardsClientCase()
    {
        await using var api = new TestUpstream();
        await using var other = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(api.Endpoint, other.Endpoint, apiMatch: ", \"caseSensitive\": false"));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/API/x"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal("GET /API/x HTTP/1.1", Assert.Single(api.Requests).RequestLine);
    }

    [Fact]
    public async Task CaseSensitiveByDefault()
    {
        await using var api = new TestUpstream();
        await using var other = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(api.Endpoint, other.Endpoint));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/API/x"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Single(other.Requests);
        Assert.Empty(api.Requests);
    }
}
