using System.Diagnostics;

namespace Gateway.Testing;

/// <summary>
/// A throw-away certificate authority made with the openssl command line at test time: a CA, a server certificate
/// for 127.0.0.1 and localhost, and a client certificate, all PEM files in one temp folder.
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

    public static async Task<TestCertificateAuthority> CreateAsync()
    {
        var ca = new TestCertificateAuthority(System.IO.Directory.CreateTempSubdirectory("gw-ca-").FullName);
        string extensions = Path.Combine(ca.Directory, "server.ext");
        await File.WriteAllTextAsync(extensions, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        string clientExtensions = Path.Combine(ca.Directory, "client.ext");
        await File.WriteAllTextAsync(clientExtensions, "extendedKeyUsage=clientAuth\n");
        await OpenSslAsync(ca.Directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=gateway test CA",
            "-keyout", "ca.key", "-out", "ca.crt");
        foreach (var (name, ext) in new[] { ("server", extensions), ("client", clientExtensions) })
        {
            await OpenSslAsync(ca.Directory, "req", "-newkey", "rsa:2048", "-nodes", "-subj", $"/CN={name}", "-keyout", $"{name}.key", "-out", $"{name}.csr");
            await OpenSslAsync(ca.Directory, "x509", "-req", "-in", $"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", ext, "-out", $"{name}.crt");
        }

        return ca;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private static async Task OpenSslAsync(string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo("openssl") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("openssl did not start");
        string output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed: {output}");
        }
    }
}
