namespace Gateway.Testing;

/// <summary>
/// A throw-away certificate authority in a temporary folder, made with <see cref="TestCertificates"/>: the CA, a server
/// certificate for 127.0.0.1 and localhost, a client certificate, and an unrelated CA that issued neither, all PEM files.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly TempFolder _folder = new("gw-ca-");

    private TestCertificateAuthority()
    {
    }

    public string Directory => _folder.Path;

    public string CaFile => _folder.PathOf("ca.crt");

    public string ServerCertFile => _folder.PathOf("server.crt");

    public string ServerKeyFile => _folder.PathOf("server.key");

    public string ClientCertFile => _folder.PathOf("client.crt");

    public string ClientKeyFile => _folder.PathOf("client.key");

    /// <summary>A CA that issued none of these certificates: verifying against it must fail.</summary>
    public string OtherCaFile => _folder.PathOf("other-ca.crt");

    public static TestCertificateAuthority Create()
    {
        var authority = new TestCertificateAuthority();
        try
        {
            using var ca = TestCertificates.CreateCa();
            using var other = TestCertificates.CreateCa("Unrelated Test CA");
            using var server = TestCertificates.IssueLeaf(ca, ["localhost"]);
            using var client = TestCertificates.IssueLeaf(ca, ["gateway.client"], client: true);
            TestCertificates.WriteCaPem(authority.Directory, ca);
            TestCertificates.WriteCaPem(authority.Directory, other, "other-ca");
            TestCertificates.WritePem(authority.Directory, "server", server);
            TestCertificates.WritePem(authority.Directory, "client", client);
            return authority;
        }
        catch
        {
            // Never handed to the test, so never disposed by it: the folder goes with the failure.
            authority.Dispose();
            throw;
        }
    }

    public void Dispose() => _folder.Dispose();
}
