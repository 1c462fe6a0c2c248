using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Testing.Sql;

/// <summary>A throw-away CA and a server certificate it signed for 127.0.0.1, as PEM files in a folder.</summary>
public sealed class TestCertificates
{
    private TestCertificates(string folder)
    {
        CaFile = Path.Combine(folder, "ca.pem");
        CertFile = Path.Combine(folder, "server.pem");
        KeyFile = Path.Combine(folder, "server.key");
        OtherCaFile = Path.Combine(folder, "other-ca.pem");
    }

    public string CaFile { get; }

    public string CertFile { get; }

    public string KeyFile { get; }

    /// <summary>A CA that did not sign the server's certificate.</summary>
    public string OtherCaFile { get; }

    public static TestCertificates Create(string folder)
    {
        Directory.CreateDirectory(folder);
        var files = new TestCertificates(folder);
        using var caKey = RSA.Create(2048);
        using var ca = SelfSignedCa("gateway test CA", caKey);
        using var otherKey = RSA.Create(2048);
        using var other = SelfSignedCa("unrelated test CA", otherKey);

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var server = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), [1, 2, 3, 4]);

        File.WriteAllText(files.CaFile, ca.ExportCertificatePem());
        File.WriteAllText(files.OtherCaFile, other.ExportCertificatePem());
        File.WriteAllText(files.CertFile, server.ExportCertificatePem());
        File.WriteAllText(files.KeyFile, serverKey.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            // PostgreSQL refuses a key file others can read.
            File.SetUnixFileMode(files.KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return files;
    }

    private static X509Certificate2 SelfSignedCa(string name, RSA key)
    {
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(365));
    }
}
