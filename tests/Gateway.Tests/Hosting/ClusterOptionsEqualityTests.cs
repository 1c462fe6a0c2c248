using System.Net;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using Gateway.Hosting;
using Gateway.Proxy.Upstream;
using Gateway.Testing;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Hosting;

/// <summary>
/// A reload keeps a cluster's callout connections when its options are equal to the running ones: options built anew
/// from an unchanged config are equal, with their TLS files reread, and any change that reaches the options, a rotated
/// certificate at the same path among them, makes them differ.
/// </summary>
public sealed class ClusterOptionsEqualityTests
{
    private static string Config(string cluster) => $$"""
        {
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 8080 }],
          "clusters": { "authsvc": { {{cluster}} } },
          "routes": [{ "name": "all", "cluster": "authsvc" }]
        }
        """;

    private const string Baseline = """
        "endpoints": ["auth.test:81", "auth.test:82"], "pooledIdleTimeoutMs": 20000,
        "tls": { "caFile": "{dir}/ca.crt", "serverName": "auth.internal", "certFile": "{dir}/client.crt", "keyFile": "{dir}/client.key" }
        """;

    /// <summary>The options of <paramref name="cluster"/>, its <c>{dir}</c> the folder: cluster TLS files are read as named, not beside the config.</summary>
    private static ClusterOptions Build(TempFolder folder, string cluster) =>
        Assert.Single(RuntimeBuilder.Clusters(folder.LoadValid(Config(cluster.Replace("{dir}", folder.Path, StringComparison.Ordinal)))));

    /// <summary>A folder with a CA and a client certificate issued by it, as <see cref="Baseline"/> names them.</summary>
    private static TempFolder NewFolder(X509Certificate2 ca)
    {
        var folder = new TempFolder("gateway-cluster-options-");
        TestCertificates.WriteCaPem(folder.Path, ca);
        using X509Certificate2 client = TestCertificates.IssueLeaf(ca, ["gateway.test"], client: true);
        TestCertificates.WritePem(folder.Path, "client", client);
        return folder;
    }

    [Fact]
    public void SameConfigBuiltTwice_OptionsEqual()
    {
        using X509Certificate2 ca = TestCertificates.CreateCa();
        using TempFolder folder = NewFolder(ca);

        ClusterOptions first = Build(folder, Baseline);
        ClusterOptions second = Build(folder, Baseline);

        Assert.NotSame(first.Endpoints, second.Endpoints);
        Assert.NotSame(first.Tls, second.Tls);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
    }

    [Theory]
    [InlineData("\"endpoints\": [\"auth.test:81\", \"auth.test:82\"]", "\"endpoints\": [\"auth.test:82\", \"auth.test:81\"]")]
    [InlineData("\"endpoints\": [\"auth.test:81\", \"auth.test:82\"]", "\"endpoints\": [\"auth.test:81\"]")]
    [InlineData("\"pooledIdleTimeoutMs\": 20000", "\"pooledIdleTimeoutMs\": 20001")]
    [InlineData("\"pooledIdleTimeoutMs\": 20000", "\"pooledIdleTimeoutMs\": 20000, \"connectTimeoutMs\": 2000")]
    [InlineData("\"serverName\": \"auth.internal\"", "\"serverName\": \"auth2.internal\"")]
    [InlineData("\"certFile\": \"{dir}/client.crt\", \"keyFile\": \"{dir}/client.key\"", "\"enabled\": true")]
    public void OptionChanged_OptionsDiffer(string from, string to)
    {
        using X509Certificate2 ca = TestCertificates.CreateCa();
        using TempFolder folder = NewFolder(ca);

        ClusterOptions first = Build(folder, Baseline);
        ClusterOptions second = Build(folder, Baseline.Replace(from, to, StringComparison.Ordinal));

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void TlsFilesRotatedAtTheSamePaths_OptionsDiffer()
    {
        using X509Certificate2 ca = TestCertificates.CreateCa();
        using X509Certificate2 rotatedCa = TestCertificates.CreateCa("Gateway Rotated CA");
        using TempFolder folder = NewFolder(ca);
        ClusterOptions first = Build(folder, Baseline);

        TestCertificates.WriteCaPem(folder.Path, rotatedCa);
        ClusterOptions trustRotated = Build(folder, Baseline);
        Assert.NotEqual(first, trustRotated);

        TestCertificates.WriteCaPem(folder.Path, ca);
        using X509Certificate2 rotatedClient = TestCertificates.IssueLeaf(ca, ["gateway.test"], client: true);
        TestCertificates.WritePem(folder.Path, "client", rotatedClient);
        ClusterOptions clientRotated = Build(folder, Baseline);
        Assert.NotEqual(first, clientRotated);
    }

    /// <summary>
    /// ClusterOptions spells out its equality, so an option added later must be added there too: each number or choice
    /// changed alone makes the options differ, and the only other options are the ones the cases above change.
    /// </summary>
    [Fact]
    public void EveryOption_TakesPartInEquality()
    {
        var baseline = new ClusterOptions { Name = "authsvc", Endpoints = [new DnsEndPoint("auth.test", 81)] };
        var others = new List<string>();
        foreach (PropertyInfo option in typeof(ClusterOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            object? changedValue = option.PropertyType == typeof(int) ? (int)option.GetValue(baseline)! + 1
                : option.PropertyType == typeof(LoadBalancing) ? LoadBalancing.LeastRequest
                : null;
            if (changedValue is null)
            {
                others.Add(option.Name);
                continue;
            }
            ClusterOptions changed = baseline with { };
            option.SetValue(changed, changedValue);
            Assert.False(baseline.Equals(changed), $"{option.Name} changed, the options still equal");
        }
        Assert.Equal(["Endpoints", "Name", "Tls"], others.Order());
    }
}
