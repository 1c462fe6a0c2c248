using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Testing;
using Gateway.Tests.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The gateway started in this process, where what a failed start leaves running can be seen: its worker loops are
/// threads named "worker 0", "worker 1", … (/proc/self/task/*/comm), which a start that lets them go ends.
/// </summary>
public sealed partial class GatewayServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartFailingAfterTheServerIsMade_ListenerPortTaken_LeavesNoWorkerRunning()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        using var folder = new TempFolder("gateway-service-");
        ConfigLoadResult loaded = folder.Load(Config(((IPEndPoint)holder.LocalEndPoint!).Port, databases: "{}"));

        await AssertFailedStartLeavesNoWorkerAsync(folder, loaded);
    }

    [Fact]
    public async Task StartFailingBeforeTheServerIsMade_PasswordFileGone_LeavesNoWorkerRunning()
    {
        using var folder = new TempFolder("gateway-service-");
        string passwordFile = folder.Write("pw", "secret");
        ConfigLoadResult loaded = folder.Load(Config(0, databases: """{ "d": { "connectionString": "Host=127.0.0.1", "passwordFile": "pw" } }"""));
        // Read when the config loaded, gone by the start: a problem the backends find before there is a server.
        File.Delete(passwordFile);

        await AssertFailedStartLeavesNoWorkerAsync(folder, loaded);
    }

    private static async Task AssertFailedStartLeavesNoWorkerAsync(TempFolder folder, ConfigLoadResult loaded)
    {
        Assert.True(loaded.Config is not null, string.Join("\n", loaded.Errors));
        await using var service = new GatewayService(new GatewayStartup(folder.ConfigPath, loaded), NullLoggerFactory.Instance);

        await Assert.ThrowsAsync<GatewayStartException>(() => service.StartAsync(Ct));

        // Before the service is disposed: the failed start alone lets its workers go. Their threads end a moment later.
        Assert.True(await Eventually.HoldsAsync(() => Task.FromResult(WorkerThreads() == 0), Ct), $"{WorkerThreads()} worker threads still run");
    }

    private static string Config(int listenerPort, string databases) => $$"""
        {
          "workers": 2,
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": {{listenerPort}} }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "clusters": { "backend": { "endpoints": ["127.0.0.1:9000"] } },
          "routes": [{ "name": "all", "cluster": "backend" }],
          "databases": {{databases}}
        }
        """;

    /// <summary>The threads of this process named as the gateway names its workers.</summary>
    private static int WorkerThreads()
    {
        int count = 0;
        foreach (string thread in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                count += WorkerName().IsMatch(File.ReadAllText(Path.Combine(thread, "comm"))) ? 1 : 0;
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }
        return count;
    }

    [GeneratedRegex(@"^worker \d+\n?$")]
    private static partial Regex WorkerName();
}
