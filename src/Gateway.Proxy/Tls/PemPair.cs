using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Proxy.Tls;

/// <summary>
/// A certificate and its private key from two PEM files, with errors that name the files: the runtime's own messages
/// are resource keys in the trimmed binary ("Cryptography_PrivateKey_DoesNotMatch"), which tell an operator nothing.
/// </summary>
public static class PemPair
{
    /// <summary>The first certificate of <paramref name="certFile"/> with the key of <paramref name="keyFile"/>; throws <see cref="CryptographicException"/> saying what is wrong.</summary>
    public static X509Certificate2 Load(string certFile, string keyFile)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            // The exception's type does not say which cause it was in words an operator can use; the key file's PEM
            // labels tell a missing or encrypted key from the key of another certificate.
            string labels = ReadOrEmpty(keyFile);
            string reason = labels.Contains("ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal)
                ? $"\"{keyFile}\" holds an encrypted private key; a passphrase is not supported"
                : labels.Contains("PRIVATE KEY-----", StringComparison.Ordinal)
                    ? $"\"{keyFile}\" is not the private key of the first certificate in \"{certFile}\""
                    : $"\"{keyFile}\" holds no PEM private key";
            throw new CryptographicException(reason, e);
        }
    }

    private static string ReadOrEmpty(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
