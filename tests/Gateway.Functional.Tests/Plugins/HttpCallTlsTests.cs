using System.Security.Cryptography.X509Certificates;
using Gateway.Testing;

namespace Gateway.Functional.Tests.Plugins;

/// <summary>
/// A plugin's proxy_http_call to a cluster with <c>tls</c>, through the published binary: the callout speaks TLS,
/// verified against the cluster's caFile and serverName; a certificate that fails verification fails the call, as a
/// refused connection does, and the reason is logged.
/// </summary>
public sealed class HttpCallTlsTests : IDisposable
{
    private readonly TempFolder _folder;
    private readonly X509Certificate2 _ca;

    public HttpCallTlsTests()
    {
        // Checked before the folder is made: a test class whose constructor throws is never disposed.
        Assert.True(File.Exists(RepoPaths.AotBinary), $"{RepoPaths.AotBinary} is missing: run `make publish` first");
        _folder = new TempFolder("gateway-callout-tls-");
        _ca = TestCertificates.CreateCa();
    }

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }

    private static string Config(string backend, string auth, string caFile)
    {
        string behaviors = RepoPaths.TestModule("behaviors");
        // The plugin calls the cluster named in its configuration and copies a 200's body into x-auth; a failed call
        // (no response headers) becomes its 503.
        return $$"""
        {
          "workers": 1,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": {
            "backend": { "endpoints": ["{{backend}}"] },
            "authsvc": { "endpoints": ["{{auth}}"], "tls": { "caFile": "{{caFile}}", "serverName": "auth.internal" } }
          },
          "routes": [ { "name": "all", "match": { "pathPrefix": "/" }, "cluster": "backend", "plugins": ["a"] } ],
          "plugins": { "a": { "module": "{{behaviors}}", "configuration": "auth_patient authsvc", "limits": { "cpuMillisecondsPerCall": 1000 } } }
        }
        """;
    }

    [Fact]
    public async Task CalloutToTlsCluster_VerifiedAndAnswered()
    {
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        await using var backend = new TestUpstream();
        await using var auth = new TlsTestUpstream(TestCertificates.IssueLeaf(_ca, ["auth.internal"]));
        await using var gateway = await GatewayProcess.StartAsync(Config(backend.Endpoint, auth.Endpoint, caFile), aot: true);
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/resource"));
        var response = await client.ReadResponseAsync();
        Assert.True(response!.Status == 200, $"{response.Status} {response.BodyText}\n{gateway.Output}");
        Assert.StartsWith("GET /auth HTTP/1.1", Assert.Single(auth.Heads), StringComparison.Ordinal);
        Assert.True(backend.Requests.TryDequeue(out var received));
        // The plugin copied the body it received over TLS into the proxied request.
        Assert.Equal("secure", received.Header("x-auth"));
    }

    [Fact]
    public async Task CalloutToTlsCluster_CertificateFromAnotherCa_CallFails_ReasonLogged()
    {
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        using X509Certificate2 otherCa = TestCertificates.CreateCa("Untrusted CA");
        await using var backend = new TestUpstream();
        await using var auth = new TlsTestUpstream(TestCertificates.IssueLeaf(otherCa, ["auth.internal"]));
        await using var gateway = await GatewayProcess.StartAsync(Config(backend.Endpoint, auth.Endpoint, caFile), aot: true);
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/resource"));
        var response = await client.ReadResponseAsync();
        Assert.Equal(503, response!.Status);
        // The call failed as a refused or reset connection does: no response headers, status BrokenConnection.
        Assert.Equal("callout reset", response.BodyText);
        Assert.Empty(auth.Heads);
        Assert.Empty(backend.Requests);
        var line = Assert.Single(await gateway.WaitForLogAsync("upstream_tls_failed"));
        Assert.Contains("authsvc", (string?)line["message"], StringComparison.Ordinal);
        Assert.Contains("does not verify", (string?)line["message"], StringComparison.Ordinal);
        // The gateway keeps serving: the next request gets the same answer, not a dead worker.
        await client.SendAsync(RawClient.Get("/resource"));
        Assert.Equal(503, (await client.ReadResponseAsync())!.Status);
    }
}
