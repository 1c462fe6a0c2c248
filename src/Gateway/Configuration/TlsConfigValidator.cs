using System.Security.Cryptography;
using Gateway.Http.Transport;
using Gateway.Proxy.Tls;

namespace Gateway.Configuration;

/// <summary>
/// Checks a listener's TLS settings, and loads its certificates the way the listener will, so a key that does not
/// match its certificate or a file that holds no PEM is reported by <c>--check-config</c>, not at the first handshake.
/// </summary>
internal sealed class TlsConfigValidator(ConfigErrors errors)
{
    public void Validate(string path, ListenerTlsConfig tls)
    {
        int before = errors.Count;
        if (TlsVersions.FromMinimum(tls.MinVersion) is null)
        {
            errors.Add($"{path}.minVersion", $"\"{tls.MinVersion}\" is not one of: 1.2, 1.3");
        }
        bool hasDefault = tls.CertFile is not null || tls.KeyFile is not null;
        if (hasDefault && (tls.CertFile is null || tls.KeyFile is null))
        {
            errors.Add($"{path}.certFile", "set certFile and keyFile together");
        }
        if (!hasDefault && tls.Certificates.Count == 0)
        {
            errors.Add(path, "needs certFile and keyFile, or certificates[]");
        }
        bool filesExist = Exists($"{path}.certFile", tls.CertFile) & Exists($"{path}.keyFile", tls.KeyFile) & Exists($"{path}.clientCaFile", tls.ClientCaFile);
        for (int i = 0; i < tls.Certificates.Count; i++)
        {
            var entry = tls.Certificates[i];
            var entryPath = ConfigPath.Index($"{path}.certificates", i);
            if (entry.ServerNames.Count == 0)
            {
                errors.Add($"{entryPath}.serverNames", "at least one server name is required");
            }
            for (int j = 0; j < entry.ServerNames.Count; j++)
            {
                var name = entry.ServerNames[j];
                var host = name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name;
                if (!HostPort.IsHostName(host))
                {
                    errors.Add(ConfigPath.Index($"{entryPath}.serverNames", j), $"\"{name}\" is not a host name or \"*.\" followed by a host name");
                }
            }
            filesExist &= Exists($"{entryPath}.certFile", entry.CertFile) & Exists($"{entryPath}.keyFile", entry.KeyFile);
        }
        if (!filesExist || errors.Count > before)
        {
            return;
        }
        try
        {
            CertificateSet.Load(Hosting.RuntimeBuilder.Tls(tls)!);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            errors.Add(path, $"certificates do not load: {e.Message}");
        }
    }

    /// <summary>A cluster's TLS: files exist, the client pair comes together and loads, the CA file holds certificates.</summary>
    public void ValidateUpstream(string path, ClusterTlsConfig tls)
    {
        int before = errors.Count;
        if ((tls.CertFile is null) != (tls.KeyFile is null))
        {
            errors.Add($"{path}.certFile", "set certFile and keyFile together");
        }
        if (tls.ServerName is { } name && !HostPort.IsHostName(name))
        {
            errors.Add($"{path}.serverName", $"\"{name}\" is not a host name");
        }
        bool filesExist = Exists($"{path}.caFile", tls.CaFile) & Exists($"{path}.certFile", tls.CertFile) & Exists($"{path}.keyFile", tls.KeyFile);
        if (!filesExist || errors.Count > before)
        {
            return;
        }
        try
        {
            if (tls.CaFile is { } caFile)
            {
                var cas = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
                cas.ImportFromPemFile(caFile);
                if (cas.Count == 0)
                {
                    errors.Add($"{path}.caFile", $"\"{caFile}\" holds no certificate");
                }
            }
            if (tls.CertFile is { } cert && tls.KeyFile is { } key)
            {
                PemPair.Load(cert, key).Dispose();
            }
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            errors.Add(path, $"certificates do not load: {e.Message}");
        }
    }

    private bool Exists(string path, string? file)
    {
        if (file is null)
        {
            return true;
        }
        if (!File.Exists(file))
        {
            errors.Add(path, $"no such file \"{file}\"");
            return false;
        }
        return true;
    }
}
