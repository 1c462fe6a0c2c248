using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>TLS from the gateway to a cluster: verified, pooled and reused; a certificate that fails verification is a 502.</summary>
public sealed class UpstreamTlsTests : IDisposable
{
    private readonly TempFolder _folder = new("gateway-upstream-tls-");
    private readonly X509Certificate2 _ca = TestCertificates.CreateCa();

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }

    // The JIT-built gateway compiles its TLS client path inside the first handshake, which shares the connect timeout;
    // on a loaded machine that alone passed the 1 s default and turned the first request into a 502 (one run in five).
    private static string Config(string endpoint, string tls) =>
        TestConfig.Proxy(TestConfig.Quote(endpoint), workers: 1, cluster: $", \"connectTimeoutMs\": 10000, \"tls\": {{ {tls} }}");

    [Fact]
    public async Task VerifiedUpstream_RequestsReuseOnePooledTlsConnection()
    {
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        await using var upstream = new TlsTestUpstream(TestCertificates.IssueLeaf(_ca, ["backend.internal"]));
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, $"\"caFile\": \"{caFile}\", \"serverName\": \"backend.internal\""));
        using var client = new RawClient(gateway.Port);
        for (int i = 0; i < 20; i++)
        {
            await client.SendAsync(RawClient.Get($"/{i}"));
            var response = await client.ReadResponseAsync();
            Assert.Equal(200, response!.Status);
            Assert.Equal("secure", response.BodyText);
        }
        Assert.Equal(20, upstream.Heads.Count);
        Assert.Equal(1, upstream.Connections);
    }

    [Theory]
    [InlineData("wrong.internal", "does not name")]
    [InlineData(null, "does not verify")]
    public async Task CertificateFailingVerification_502_ReasonLogged(string? serverName, string reason)
    {
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        using X509Certificate2 otherCa = TestCertificates.CreateCa("Untrusted CA");
        // Signed by the expected CA but for another name, or for the right name by a CA the gateway does not trust.
        X509Certificate2 served = serverName is null
            ? TestCertificates.IssueLeaf(otherCa, ["backend.internal"])
            : TestCertificates.IssueLeaf(_ca, ["backend.internal"]);
        await using var upstream = new TlsTestUpstream(served);
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, $"\"caFile\": \"{caFile}\", \"serverName\": \"{serverName ?? "backend.internal"}\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/"));
        Assert.Equal(502, (await client.ReadResponseAsync())!.Status);
        Assert.Empty(upstream.Heads);
        var line = Assert.Single(await gateway.WaitForLogAsync("upstream_tls_failed"));
        Assert.Contains(reason, (string?)line["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientCertificate_PresentedToTheUpstream()
    {
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        var (cert, key) = TestCertificates.WritePem(_folder.Path, "gateway-client", TestCertificates.IssueLeaf(_ca, ["gateway.client"], client: true));
        await using var upstream = new TlsTestUpstream(TestCertificates.IssueLeaf(_ca, ["127.0.0.1"]));
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, $"\"caFile\": \"{caFile}\", \"certFile\": \"{cert}\", \"keyFile\": \"{key}\""));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/"));
        Assert.Equal(200, (await client.ReadResponseAsync())!.Status);
        Assert.Equal("CN=gateway.client", upstream.ClientSubject);
    }
}
