using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>
/// TLS on a listener: certificates made at test time, chosen by SNI, client certificates (mTLS), minimum version,
/// rotation of the mounted files under load, and failed handshakes that get no bytes and one log line.
/// </summary>
public sealed class TlsTerminationTests : IDisposable
{
    private readonly TempFolder _folder = new("gateway-tls-");
    private readonly X509Certificate2 _ca = TestCertificates.CreateCa();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }

    private string Config(string upstream, string tls) => TestConfig.Proxy(TestConfig.Quote(upstream), workers: 1)
        .Replace("\"port\": 0 }]", $"\"port\": 0, \"tls\": {{ {tls} }} }}]", StringComparison.Ordinal);

    private string DefaultPair(string name = "default.test")
    {
        var (cert, key) = TestCertificates.WritePem(_folder.Path, name, TestCertificates.IssueLeaf(_ca, [name]), _ca);
        return $"\"certFile\": \"{cert}\", \"keyFile\": \"{key}\"";
    }

    /// <summary>Handshakes as a .NET client trusting only the test CA; returns the stream and the certificate served.</summary>
    private async Task<(SslStream Stream, X509Certificate2 Served)> ConnectAsync(
        int port, string? serverName, X509Certificate2? clientCertificate = null, SslProtocols protocols = SslProtocols.None, bool nameMustMatch = true)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port, Ct);
        var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        X509Certificate2? served = null;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = serverName ?? "",
            EnabledSslProtocols = protocols,
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck },
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                served = new X509Certificate2(certificate!);
                // Without SNI (or when the default certificate answers another name) only the chain is checked.
                return (errors & ~(serverName is null || !nameMustMatch ? SslPolicyErrors.RemoteCertificateNameMismatch : SslPolicyErrors.None)) == SslPolicyErrors.None;
            },
        };
        options.CertificateChainPolicy.CustomTrustStore.Add(_ca);
        await ssl.AuthenticateAsClientAsync(options, Ct);
        return (ssl, served!);
    }

    private static async Task<string> GetAsync(Stream stream, string path, string host = "a.test")
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nhost: {host}\r\n\r\n"), Ct);
        var reader = new ByteReader(stream);
        string head = (await reader.ReadHeadAsync(Ct))!;
        int length = int.Parse(new ReceivedRequest(head, [], 0).Header("content-length") ?? "0");
        await reader.ReadExactlyAsync(length, Ct);
        return head;
    }

    [Fact]
    public async Task DefaultCertificate_ProxiesOverTls_ForwardedProtoIsHttps()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, DefaultPair()));
        var (stream, served) = await ConnectAsync(gateway.Port, "default.test");
        await using (stream)
        {
            Assert.StartsWith("HTTP/1.1 200", await GetAsync(stream, "/x"), StringComparison.Ordinal);
            Assert.StartsWith("HTTP/1.1 200", await GetAsync(stream, "/y"), StringComparison.Ordinal); // kept alive
            Assert.Equal("CN=default.test", served.Subject);
        }
        Assert.All(upstream.Requests, r => Assert.Equal("https", r.Header("x-forwarded-proto")));
        Assert.Equal(1, upstream.ConnectionCount);
    }

    [Fact]
    public async Task Sni_PicksExactThenWildcardThenDefault()
    {
        var (apiCert, apiKey) = TestCertificates.WritePem(_folder.Path, "api", TestCertificates.IssueLeaf(_ca, ["api.test"]), _ca);
        var (wildCert, wildKey) = TestCertificates.WritePem(_folder.Path, "wild", TestCertificates.IssueLeaf(_ca, ["*.wild.test"]), _ca);
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, DefaultPair() + $$"""
            , "certificates": [
                { "serverNames": ["api.test"], "certFile": "{{apiCert}}", "keyFile": "{{apiKey}}" },
                { "serverNames": ["*.wild.test"], "certFile": "{{wildCert}}", "keyFile": "{{wildKey}}" } ]
            """));
        foreach (var (sni, subject) in new[] { ("api.test", "CN=api.test"), ("a.wild.test", "CN=*.wild.test"), ("other.test", "CN=default.test"), ((string?)null, "CN=default.test") })
        {
            var (stream, served) = await ConnectAsync(gateway.Port, sni, nameMustMatch: sni != "other.test");
            await using (stream)
            {
                Assert.Equal(subject, served.Subject);
                Assert.StartsWith("HTTP/1.1 200", await GetAsync(stream, "/"), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task UnknownSniWithoutDefault_HandshakeFails_OneLogLine_GatewayKeepsServing()
    {
        var (apiCert, apiKey) = TestCertificates.WritePem(_folder.Path, "api", TestCertificates.IssueLeaf(_ca, ["api.test"]), _ca);
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, $$"""
            "certificates": [{ "serverNames": ["api.test"], "certFile": "{{apiCert}}", "keyFile": "{{apiKey}}" }]
            """));
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(gateway.Port, "unknown.test"));
        var lines = await gateway.WaitForLogAsync("tls_handshake_failed");
        Assert.Contains("unknown.test", (string?)Assert.Single(lines)["message"], StringComparison.Ordinal);
        var (stream, _) = await ConnectAsync(gateway.Port, "api.test");
        await using (stream)
        {
            Assert.StartsWith("HTTP/1.1 200", await GetAsync(stream, "/"), StringComparison.Ordinal);
        }
        Assert.False(gateway.HasExited);
    }

    [Fact]
    public async Task PlainHttpToTlsPort_NoResponseBytes_OneLogLine()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, DefaultPair()));
        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/"));
        Assert.Empty(await ListenerTests.ReadUntilClosedAsync(client));
        Assert.Single(await gateway.WaitForLogAsync("tls_handshake_failed"));
        Assert.Empty(upstream.Requests);
        Assert.Contains("gateway_tls_handshake_failures_total{listener=\"public\"} 1", await gateway.AdminGetAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mtls_ClientWithoutCertificateRefused_WithOneAccepted()
    {
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, DefaultPair() + $", \"clientCaFile\": \"{caFile}\""));
        // TLS 1.3 reports a refused client certificate only at the first read, so the failure may show there.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var (s, _) = await ConnectAsync(gateway.Port, "default.test");
            await using (s)
            {
                await GetAsync(s, "/");
            }
        });
        using X509Certificate2 otherCa = TestCertificates.CreateCa("Other CA");
        using X509Certificate2 stranger = TestCertificates.IssueLeaf(otherCa, ["stranger.test"], client: true);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var (s, _) = await ConnectAsync(gateway.Port, "default.test", stranger);
            await using (s)
            {
                await GetAsync(s, "/");
            }
        });
        using X509Certificate2 member = TestCertificates.IssueLeaf(_ca, ["client.test"], client: true);
        var (stream, _) = await ConnectAsync(gateway.Port, "default.test", member);
        await using (stream)
        {
            Assert.StartsWith("HTTP/1.1 200", await GetAsync(stream, "/"), StringComparison.Ordinal);
        }
        Assert.Single(upstream.Requests);
    }

    [Fact]
    public async Task PluginsReadTheConnectionTlsProperties()
    {
        // The JIT-built gateway compiles the certificate paths on the first property read, inside the import,
        // and import time counts against the callback's budget: give the first request room, as the other
        // behaviour tests do.
        string behaviors = RepoPaths.TestModule("behaviors");
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        await using var upstream = new TestUpstream();
        string config = Config(upstream.Endpoint, DefaultPair() + $", \"clientCaFile\": \"{caFile}\"")
            .Replace("\"cluster\": \"backend\" }", "\"cluster\": \"backend\", \"plugins\": [\"tls\"] }", StringComparison.Ordinal)
            .Replace("\"routes\":", $"\"plugins\": {{ \"tls\": {{ \"module\": \"{behaviors}\", \"configuration\": \"tls\", \"limits\": {{ \"cpuMillisecondsPerCall\": 1000 }} }} }},\n  \"routes\":", StringComparison.Ordinal);
        await using var gateway = await GatewayProcess.StartAsync(config);
        using X509Certificate2 member = TestCertificates.IssueLeaf(_ca, ["client.test"], client: true);
        var (stream, _) = await ConnectAsync(gateway.Port, "default.test", member, SslProtocols.Tls13);
        await using (stream)
        {
            Assert.StartsWith("HTTP/1.1 200", await GetAsync(stream, "/"), StringComparison.Ordinal);
        }
        ReceivedRequest seen = Assert.Single(upstream.Requests);
        Assert.Equal("TLSv1.3", seen.Header("x-tls-version"));
        Assert.Equal("default.test", seen.Header("x-tls-sni"));
        Assert.Equal("CN=client.test", seen.Header("x-tls-peer"));
        Assert.Equal("true", seen.Header("x-tls-mtls"));
    }

    [Fact]
    public async Task MinVersion13_Tls12ClientRefused()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, DefaultPair() + ", \"minVersion\": \"1.3\""));
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(gateway.Port, "default.test", protocols: SslProtocols.Tls12));
        var (stream, _) = await ConnectAsync(gateway.Port, "default.test", protocols: SslProtocols.Tls13);
        await using (stream)
        {
            Assert.Equal(SslProtocols.Tls13, stream.SslProtocol);
            Assert.StartsWith("HTTP/1.1 200", await GetAsync(stream, "/"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RotatedFiles_NewHandshakesUseNewCertificate_OpenConnectionsKeepTheirs_BrokenPairRefused()
    {
        var (cert, key) = TestCertificates.WritePem(_folder.Path, "rotating", TestCertificates.IssueLeaf(_ca, ["rotating.test"]), _ca);
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, $"\"certFile\": \"{cert}\", \"keyFile\": \"{key}\""));
        var (held, first) = await ConnectAsync(gateway.Port, "rotating.test");
        await using var heldStream = held;
        Assert.StartsWith("HTTP/1.1 200", await GetAsync(held, "/before"), StringComparison.Ordinal);

        // Load: new connections keep coming while the files change; none may fail.
        using var stop = new CancellationTokenSource();
        int failures = 0;
        var serials = new System.Collections.Concurrent.ConcurrentBag<string>();
        Task load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var (s, served) = await ConnectAsync(gateway.Port, "rotating.test");
                    await using (s)
                    {
                        await GetAsync(s, "/load");
                    }
                    serials.Add(served.SerialNumber);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }, Ct);

        using X509Certificate2 next = TestCertificates.IssueLeaf(_ca, ["rotating.test"]);
        // As a Secret update does: the new files appear whole (written aside, then moved over the old ones).
        string staging = Directory.CreateDirectory(_folder.PathOf("staging")).FullName;
        var (newCert, newKey) = TestCertificates.WritePem(staging, "rotating", next, _ca);
        File.Move(newKey, key, overwrite: true);
        File.Move(newCert, cert, overwrite: true);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var (probe, served) = await ConnectAsync(gateway.Port, "rotating.test");
            await probe.DisposeAsync();
            if (served.SerialNumber == next.SerialNumber)
            {
                break;
            }
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the new certificate was not served within 10 s");
            await Task.Delay(100, Ct);
        }
        Assert.Single(await gateway.WaitForLogAsync("tls_certificates_reloaded"));

        // The connection opened before the rotation still works on its own session.
        Assert.StartsWith("HTTP/1.1 200", await GetAsync(held, "/after"), StringComparison.Ordinal);

        // A broken pair (a key of another certificate) is refused; the last good certificate keeps serving.
        using X509Certificate2 unrelated = TestCertificates.IssueLeaf(_ca, ["unrelated.test"]);
        File.WriteAllText(key, unrelated.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        Assert.Single(await gateway.WaitForLogAsync("tls_certificates_refused"));
        var (after, stillServed) = await ConnectAsync(gateway.Port, "rotating.test");
        await after.DisposeAsync();
        Assert.Equal(next.SerialNumber, stillServed.SerialNumber);

        await stop.CancelAsync();
        await load;
        Assert.Equal(0, failures);
        Assert.NotEmpty(serials);
        Assert.NotEqual(first.SerialNumber, next.SerialNumber);
    }

    [Fact]
    public async Task SecretVolumeRotation_SymlinkSwap_NewCertificateServed()
    {
        // A Secret volume as the kubelet writes it: tls.crt -> ..data/tls.crt, ..data -> a timestamped folder; an
        // update writes a new folder and renames a new ..data link over the old one, so the paths never change.
        string volume = Directory.CreateDirectory(_folder.PathOf("secret")).FullName;
        using X509Certificate2 before = TestCertificates.IssueLeaf(_ca, ["k8s.test"]);
        using X509Certificate2 after = TestCertificates.IssueLeaf(_ca, ["k8s.test"]);
        async Task PublishAsync(string version, X509Certificate2 leaf)
        {
            string folder = Directory.CreateDirectory(Path.Combine(volume, version)).FullName;
            var (c, k) = TestCertificates.WritePem(folder, "tls", leaf, _ca);
            File.Move(c, Path.Combine(folder, "tls.crt"), overwrite: true);
            File.Move(k, Path.Combine(folder, "tls.key"), overwrite: true);
            string link = Path.Combine(volume, "..data_tmp");
            File.CreateSymbolicLink(link, version);
            // rename(2) of the link over the old one, as the kubelet does: one atomic step (File.Move would follow it).
            var (exit, output) = await CommandRun.RunAsync("mv", ["-T", link, Path.Combine(volume, "..data")]);
            Assert.True(exit == 0, output);
        }
        await PublishAsync("..2026_01", before);
        File.CreateSymbolicLink(Path.Combine(volume, "tls.crt"), "..data/tls.crt");
        File.CreateSymbolicLink(Path.Combine(volume, "tls.key"), "..data/tls.key");
        await using var upstream = new TestUpstream();
        string cert = Path.Combine(volume, "tls.crt");
        string key = Path.Combine(volume, "tls.key");
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, $"\"certFile\": \"{cert}\", \"keyFile\": \"{key}\""));
        var (first, served) = await ConnectAsync(gateway.Port, "k8s.test");
        await first.DisposeAsync();
        Assert.Equal(before.SerialNumber, served.SerialNumber);

        await PublishAsync("..2026_02", after);
        Directory.Delete(Path.Combine(volume, "..2026_01"), recursive: true);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var (probe, now) = await ConnectAsync(gateway.Port, "k8s.test");
            await probe.DisposeAsync();
            if (now.SerialNumber == after.SerialNumber)
            {
                break;
            }
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the rotated Secret was not served within 10 s");
            await Task.Delay(100, Ct);
        }
        Assert.Single(await gateway.WaitForLogAsync("tls_certificates_reloaded"));
        Assert.Empty(gateway.LogEntries("tls_certificates_refused"));
    }

    [Fact]
    public async Task OpenSslClient_VerifiesChainAndGetsResponse()
    {
        string caFile = TestCertificates.WriteCaPem(_folder.Path, _ca);
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(Config(upstream.Endpoint, DefaultPair("api.test")));
        var (_, output) = await CommandRun.RunAsync("openssl",
            ["s_client", "-connect", $"127.0.0.1:{gateway.Port}", "-servername", "api.test", "-CAfile", caFile, "-verify_return_error", "-verify_hostname", "api.test", "-ign_eof"],
            input: "GET /openssl HTTP/1.1\r\nhost: api.test\r\nconnection: close\r\n\r\n", limit: TimeSpan.FromSeconds(20));
        Assert.Contains("Verify return code: 0 (ok)", output, StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1 200 OK", output, StringComparison.Ordinal);
        Assert.Equal("https", Assert.Single(upstream.Requests).Header("x-forwarded-proto"));
    }
}
