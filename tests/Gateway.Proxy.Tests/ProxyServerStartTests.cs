using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Gateway.Http;
using Gateway.Proxy.Metrics;
using Gateway.Proxy.Server;
using Gateway.Proxy.Tls;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Proxy.Tests;

/// <summary>
/// A start that fails part-way through its listeners lets go of every port it bound before its error goes on: the
/// caller reports the problem, and the ports are free at once, not when the collector finalizes a lost socket.
/// </summary>
public sealed class ProxyServerStartTests
{
    [Fact]
    public async Task ListenerCertificateDoesNotLoad_FailedStartFreesEveryPortItBound()
    {
        int[] ports = FreePorts(2);
        string missing = Path.Combine(Path.GetTempPath(), $"gateway-missing-{Guid.NewGuid():N}");
        ListenerOptions[] listeners =
        [
            new() { Name = "plain", Address = "127.0.0.1", Port = ports[0] },
            new()
            {
                Name = "secure", Address = "127.0.0.1", Port = ports[1],
                Tls = new ListenerTlsOptions { CertFile = missing + ".crt", KeyFile = missing + ".key", Protocols = SslProtocols.Tls12 | SslProtocols.Tls13 },
            },
        ];
        var loggers = NullLoggerFactory.Instance;
        var snapshot = new ProxySnapshot(new HttpLimits(), [], [], plugins: null, new ProxyCounters());
        await using var server = new ProxyServer(snapshot, ProxyServer.StartWorkers(1, loggers), loggers);

        Assert.ThrowsAny<IOException>(() => server.Start(listeners));

        // Before the server is disposed: the failed start alone has closed the plain listener bound before the failure
        // and the socket bound for the listener whose certificate did not load.
        foreach (ListenerOptions listener in listeners)
        {
            Assert.True(CanListen(listener.Port), $"the port of listener \"{listener.Name}\" is still bound");
        }
    }

    private static bool CanListen(int port)
    {
        using var again = new TcpListener(IPAddress.Loopback, port);
        try
        {
            again.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Ports the kernel picks, all distinct: each is held until every one is picked, then let go.</summary>
    private static int[] FreePorts(int count)
    {
        var held = new TcpListener[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                held[i] = new TcpListener(IPAddress.Loopback, 0);
                held[i].Start();
            }
            return [.. held.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener? listener in held)
            {
                listener?.Stop();
            }
        }
    }
}
