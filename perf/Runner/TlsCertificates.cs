using System.Security.Cryptography.X509Certificates;

namespace Gateway.Perf.Runner;

/// <summary>
/// A test CA and one server certificate for <see cref="ServerName"/> (ECDSA P-256, as a cert-manager default issues),
/// made with openssl at run time in the run's scratch folder; the gateway and nginx serve the same pair.
/// </summary>
internal sealed class TlsCertificates : IDisposable
{
    public const string ServerName = "perf.test";

    private TlsCertificates(string certFile, string keyFile, X509Certificate2 ca)
    {
        CertFile = certFile;
        KeyFile = keyFile;
        Ca = ca;
    }

    /// <summary>The leaf certificate, then the CA (the chain a server sends).</summary>
    public string CertFile { get; }

    public string KeyFile { get; }

    /// <summary>What the loader trusts.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The pair in <paramref name="folder"/>, or null with the reason openssl gave.</summary>
    public static TlsCertificates? Create(string folder, out string? problem)
    {
        string caKey = Path.Combine(folder, "tls-ca.key");
        string caCert = Path.Combine(folder, "tls-ca.pem");
        string key = Path.Combine(folder, "tls-leaf.key");
        string request = Path.Combine(folder, "tls-leaf.csr");
        string leaf = Path.Combine(folder, "tls-leaf.pem");
        string chain = Path.Combine(folder, "tls-chain.pem");
        string extensions = Path.Combine(folder, "tls-leaf.ext");
        File.WriteAllText(extensions, $"subjectAltName=DNS:{ServerName}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
        string[][] steps =
        [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", caKey, "-out", caCert,
                "-days", "2", "-subj", "/CN=Gateway perf test CA"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", request,
                "-subj", "/CN=" + ServerName],
            ["x509", "-req", "-in", request, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial", "-out", leaf, "-days", "2",
                "-extfile", extensions],
        ];
        foreach (string[] step in steps)
        {
            var (exit, output) = ExternalCommand.Run("openssl", step);
            if (exit != 0)
            {
                problem = $"openssl {step[0]} failed: {output.Split('\n')[0]}";
                return null;
            }
        }
        File.WriteAllText(chain, File.ReadAllText(leaf) + File.ReadAllText(caCert));
        problem = null;
        return new TlsCertificates(chain, key, X509CertificateLoader.LoadCertificateFromFile(caCert));
    }

    public void Dispose() => Ca.Dispose();
}
