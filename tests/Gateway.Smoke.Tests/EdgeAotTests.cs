using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Testing;

namespace Gateway.Smoke.Tests;

/// <summary>
/// The edge through the published AOT binary: TLS termination with SNI, TLS to a verified upstream over a pooled
/// connection, the normalized path, plain HTTP refused on the TLS port, and the access log line.
/// </summary>
public sealed class EdgeAotTests : IDisposable
{
    private readonly TempFolder _folder;
    private readonly X509Certificate2 _ca;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public EdgeAotTests()
    {
        // Checked before the folder is made: a test class whose constructor throws is never disposed.
        Assert.True(File.Exists(RepoPaths.AotBinary), $"{RepoPaths.AotBinary} is missing: run `make publish` first");
        _folder = new TempFolder("gateway-edge-aot-");
        _ca = TestCertificates.CreateCa();
    }

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task TlsListener_ToTlsUpstream_NormalizedPath_AccessLogged()
    {
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        var (cert, key) = TestCertificates.WritePem(_folder.Path, "edge", TestCertificates.IssueLeaf(_ca, ["edge.test"]), _ca);
        await using var upstream = new TlsTestUpstream(TestCertificates.IssueLeaf(_ca, ["backend.internal"]));
        string config = TestConfig.Proxy(
                TestConfig.Quote(upstream.Endpoint), workers: 1,
                cluster: $", \"tls\": {{ \"caFile\": \"{caFile}\", \"serverName\": \"backend.internal\" }}",
                routes: """{ "name": "api", "match": { "pathPrefix": "/api/" }, "cluster": "backend" }""")
            .Replace("\"port\": 0 }]", $"\"port\": 0, \"tls\": {{ \"certificates\": [{{ \"serverNames\": [\"edge.test\"], \"certFile\": \"{cert}\", \"keyFile\": \"{key}\" }}] }} }}]", StringComparison.Ordinal);
        await using var gateway = await GatewayProcess.StartAsync(config, aot: true);

        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", gateway.Port, Ct);
        await using var ssl = new SslStream(tcp.GetStream());
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "edge.test",
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck },
        };
        options.CertificateChainPolicy.CustomTrustStore.Add(_ca);
        await ssl.AuthenticateAsClientAsync(options, Ct);
        var reader = new ByteReader(ssl);
        for (int i = 0; i < 3; i++)
        {
            await ssl.WriteAsync(Encoding.ASCII.GetBytes($"GET //%61pi/./x{i} HTTP/1.1\r\nhost: edge.test\r\n\r\n"), Ct);
            string head = (await reader.ReadHeadAsync(Ct))!;
            Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
            Assert.Equal("secure", Encoding.ASCII.GetString(await reader.ReadExactlyAsync(6, Ct)));
        }
        Assert.Equal(1, upstream.Connections);
        Assert.StartsWith("GET /api/x0 HTTP/1.1", upstream.Heads[0], StringComparison.Ordinal);
        Assert.Contains("x-forwarded-proto: https", upstream.Heads[0], StringComparison.Ordinal);

        using var plain = new RawClient(gateway.Port);
        await plain.SendAsync(RawClient.Get("/api/x"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        byte[] answer;
        try
        {
            answer = await plain.Reader.ReadToEndAsync(cts.Token);
        }
        catch (IOException)
        {
            answer = [];
        }
        Assert.Empty(answer);
        Assert.NotEmpty(await gateway.WaitForLogAsync("tls_handshake_failed"));
        var access = await gateway.WaitForLogAsync("\"type\":\"access\"");
        Assert.Equal("/api/x0", (string?)access[0]["path"]);
    }

    [Fact]
    public async Task CheckConfig_KeyThatDoesNotFit_NamesTheFiles_NotARuntimeResourceKey()
    {
        // The trimmed binary carries resource keys instead of the runtime's messages: the gateway words these itself.
        var (cert, _) = TestCertificates.WritePem(_folder.Path, "served", TestCertificates.IssueLeaf(_ca, ["a.test"]));
        var (_, otherKey) = TestCertificates.WritePem(_folder.Path, "other", TestCertificates.IssueLeaf(_ca, ["b.test"]));
        string config = TestConfig.Proxy(TestConfig.Quote("127.0.0.1:9"), workers: 1,
                cluster: $", \"tls\": {{ \"certFile\": \"{cert}\", \"keyFile\": \"{cert}\" }}")
            .Replace("\"port\": 0 }]", $"\"port\": 0, \"tls\": {{ \"certFile\": \"{cert}\", \"keyFile\": \"{otherKey}\" }} }}]", StringComparison.Ordinal);
        string path = _folder.PathOf("gateway.json");
        await File.WriteAllTextAsync(path, config, Ct);
        var (exit, output) = await CommandRun.RunAsync(RepoPaths.AotBinary, ["--check-config", path]);
        Assert.NotEqual(0, exit);
        Assert.Contains($"listeners[0].tls: certificates do not load: \"{otherKey}\" is not the private key of the first certificate in \"{cert}\"", output, StringComparison.Ordinal);
        Assert.Contains($"clusters.backend.tls: certificates do not load: \"{cert}\" holds no PEM private key", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Cryptography_", output, StringComparison.Ordinal);
    }
}
