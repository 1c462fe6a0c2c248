namespace Gateway.Testing;

/// <summary>
/// A throw-away certificate authority in a temporary folder, made with <see cref="TestCertificates"/>: the CA, a server
/// certificate for 127.0.0.1 and localhost, a client certificate, and an unrelated CA that issued neither, all PEM files.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private TestCertificateAuthority(string directory) => Directory = directory;

    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, "ca.crt");

    public string ServerCertFile => Path.Combine(Directory, "server.crt");

    public string ServerKeyFile => Path.Combine(Directory, "server.key");

    public string ClientCertFile => Path.Combine(Directory, "client.crt");

    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    /// <summary>A CA that issued none of these certificates: verifying against it must fail.</summary>
    public string OtherCaFile => Path.Combine(Directory, "other-ca.crt");

    public static TestCertificateAuthority Create()
    {
        var authority = new TestCertificateAuthority(System.IO.Directory.CreateTempSubdirectory("gw-ca-").FullName);
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

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
