using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Testing;

/// <summary>
/// Certificates made in-process at test time (ECDSA P-256): a test CA and leaf certificates with SANs, written as PEM
/// files. <see cref="TestCertificateAuthority"/> is a ready folder of them.
/// </summary>
public static class TestCertificates
{
    public static X509Certificate2 CreateCa(string name = "Gateway Test CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A leaf for <paramref name="dnsNames"/> (the first is also its CN), for servers or, with <paramref name="client"/>, clients.</summary>
    public static X509Certificate2 IssueLeaf(X509Certificate2 ca, string[] dnsNames, bool client = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (string name in dnsNames)
        {
            san.AddDnsName(name);
        }
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(client ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")], false));
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using X509Certificate2 issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes the chain (leaf, then <paramref name="chain"/>) and the key (readable by its owner only, as PostgreSQL requires); returns both paths.</summary>
    public static (string Cert, string Key) WritePem(string directory, string name, X509Certificate2 leaf, params X509Certificate2[] chain)
    {
        string cert = Path.Combine(directory, name + ".crt");
        string key = Path.Combine(directory, name + ".key");
        File.WriteAllText(cert, leaf.ExportCertificatePem() + "\n" + string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n")));
        File.WriteAllText(key, leaf.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return (cert, key);
    }

    public static string WriteCaPem(string directory, X509Certificate2 ca, string name = "ca")
    {
        string path = Path.Combine(directory, name + ".crt");
        File.WriteAllText(path, ca.ExportCertificatePem() + "\n");
        return path;
    }
}
