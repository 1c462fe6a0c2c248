using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gateway.Testing.Redis;

namespace Gateway.Deploy.Tests;

/// <summary>
/// The image's files run as the container would run them (see <see cref="DistrolessRoot"/>):
/// no Docker daemon, the same base libraries, the same user, a read-only root, config and
/// secrets mounted the way the kubelet mounts the Deployment's volumes.
/// </summary>
public sealed class ContainerRootTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public void Version_RunsInTheDistrolessRoot()
    {
        using DistrolessRoot root = DistrolessRoot.Create();
        using ChildProcess gateway = root.Start(["/app/gateway", "--version"], [], ImageContentsTests.ImageEnvironment(LoadDockerfile()));
        Assert.True(gateway.WaitForExit(TimeSpan.FromSeconds(30)), gateway.Output);
        Assert.True(gateway.ExitCode == 0, $"exit {gateway.ExitCode}:\n{gateway.Output}");
        Assert.StartsWith("gateway ", gateway.Output);
    }

    [Fact]
    public void DeploymentPod_ConfigPassesCheckConfigInsideTheImage()
    {
        // The pod exactly as the manifests describe it: every volume at its mount path with the
        // kubelet's layout, the container's GATEWAY_ variables, the image's plugin paths as they are.
        var pod = new PodSpec(KubernetesManifests.Load());
        using DistrolessRoot root = DistrolessRoot.Create();
        var mounts = new List<ContainerMount>();
        foreach (PodMount mount in pod.Mounts)
        {
            string hostDirectory = Path.Combine(root.Workspace, mount.Name);
            KubernetesVolume.Write(hostDirectory, mount.Files);
            mounts.Add(new ContainerMount(hostDirectory, mount.MountPath));
        }

        var environment = ImageContentsTests.ImageEnvironment(LoadDockerfile());
        foreach (var (name, value) in pod.GatewayEnvironment)
        {
            environment[name] = value;
        }

        using ChildProcess check = root.Start(["/app/gateway", "--check-config", pod.ConfigPath], mounts, environment);
        Assert.True(check.WaitForExit(TimeSpan.FromMinutes(1)), check.Output);
        Assert.True(check.ExitCode == 0, $"--check-config {pod.ConfigPath} in the pod's file system: exit {check.ExitCode}\n{check.Output}");
    }

    [Fact]
    public async Task Container_ProxiesWithMountedSecretAndExitsZeroOnSigterm()
    {
        var pod = new PodSpec(KubernetesManifests.Load());
        using DistrolessRoot root = DistrolessRoot.Create();
        // The Redis password exists only in the mounted secret file: rate limiting works only
        // if the gateway read it, because this Redis refuses every command before AUTH.
        string secret = "s3cret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        await using var redis = await RedisProcess.StartAsync("--requirepass", secret);
        await using var upstream = new EchoUpstream();
        int listenerPort = LoopbackPorts.Free();
        int adminPort = LoopbackPorts.Free();

        string configDirectory = Path.Combine(root.Workspace, "config");
        string secretDirectory = Path.Combine(root.Workspace, "redis-password");
        KubernetesVolume.Write(configDirectory, new Dictionary<string, string>
        {
            ["gateway.json"] = TestConfig(listenerPort, adminPort, upstream.Port, redis.Port).ToJsonString(),
        });
        KubernetesVolume.Write(secretDirectory, new Dictionary<string, string> { ["password"] = secret });

        // The image's entrypoint with the Deployment's arguments, mounts at the Deployment's paths.
        var command = new List<string> { "/app/gateway" };
        command.AddRange((pod.Container["args"]?.AsArray() ?? []).Select(a => (string)a!));
        var mounts = new List<ContainerMount>
        {
            new(configDirectory, pod.MountHolding(pod.ConfigPath)!.MountPath),
            new(secretDirectory, "/var/run/secrets/redis"),
        };
        Assert.Equal("/etc/gateway/gateway.json", pod.ConfigPath);

        using ChildProcess gateway = root.Start(command, mounts, ImageContentsTests.ImageEnvironment(LoadDockerfile()));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var admin = new Uri($"http://127.0.0.1:{adminPort}");
        var listener = new Uri($"http://127.0.0.1:{listenerPort}");

        await WaitUntilReadyAsync(client, new Uri(admin, "/readyz"), gateway);
        foreach (var (path, _) in ManifestTests.Probes(pod))
        {
            HttpResponseMessage probe = await client.GetAsync(new Uri(admin, path), Cancel);
            Assert.True(probe.StatusCode == HttpStatusCode.OK, $"probe {path}: {probe.StatusCode}");
        }

        AssertRunsConfined(gateway.Id);

        HttpResponseMessage first = await client.SendAsync(Get(listener, "/hello", "alice"), Cancel);
        string echoed = await first.Content.ReadAsStringAsync(Cancel);
        Assert.True(first.StatusCode == HttpStatusCode.OK, $"{first.StatusCode}: {echoed}\n{gateway.Output}");
        Assert.StartsWith("GET /hello HTTP/1.1\r\n", echoed);
        Assert.Equal(1, upstream.RequestCount);

        // One request per minute per client: the second is refused by Redis-backed state,
        // which the gateway reached with the password from the secret file.
        HttpResponseMessage second = await client.SendAsync(Get(listener, "/hello", "alice"), Cancel);
        Assert.True(second.StatusCode == HttpStatusCode.TooManyRequests,
            $"expected 429 from the Redis-backed limit, got {second.StatusCode}\n{gateway.Output}");
        HttpResponseMessage other = await client.SendAsync(Get(listener, "/hello", "bob"), Cancel);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(2, upstream.RequestCount);

        HttpResponseMessage config = await client.GetAsync(new Uri(admin, "/config"), Cancel);
        Assert.Equal(HttpStatusCode.OK, config.StatusCode);
        Assert.DoesNotContain(secret, await config.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);

        gateway.Terminate();
        Assert.True(gateway.WaitForExit(TimeSpan.FromSeconds(30)), $"no exit after SIGTERM:\n{gateway.Output}");
        Assert.True(gateway.ExitCode == 0, $"exit {gateway.ExitCode} after SIGTERM:\n{gateway.Output}");
        Assert.DoesNotContain(secret, gateway.Output, StringComparison.Ordinal);
    }

    private static DockerfileModel LoadDockerfile() => DockerfileModel.Load(Repository.PathOf("Dockerfile.aot"));

    private static JsonNode TestConfig(int listenerPort, int adminPort, int upstreamPort, int redisPort) => new JsonObject
    {
        ["workers"] = 2,
        ["listeners"] = new JsonArray(new JsonObject { ["name"] = "public", ["address"] = "127.0.0.1", ["port"] = listenerPort }),
        ["admin"] = new JsonObject { ["address"] = "127.0.0.1", ["port"] = adminPort },
        ["shutdown"] = new JsonObject { ["drainTimeoutMs"] = 5000, ["listenerCloseDelayMs"] = 0 },
        ["clusters"] = new JsonObject
        {
            ["echo"] = new JsonObject { ["endpoints"] = new JsonArray($"127.0.0.1:{upstreamPort}") },
        },
        ["routes"] = new JsonArray(new JsonObject
        {
            ["name"] = "all",
            ["match"] = new JsonObject { ["host"] = "*", ["pathPrefix"] = "/" },
            ["cluster"] = "echo",
            ["plugins"] = new JsonArray("rate-limit"),
        }),
        ["plugins"] = new JsonObject
        {
            ["rate-limit"] = new JsonObject
            {
                ["module"] = "/app/plugins/rate_limit.wasm",
                ["configuration"] = new JsonObject
                {
                    ["mode"] = "redis",
                    ["redis"] = "sessions",
                    ["failurePolicy"] = "open",
                    ["key"] = new JsonObject { ["source"] = "header", ["name"] = "x-client" },
                    ["limits"] = new JsonArray(new JsonObject { ["name"] = "per-minute", ["limit"] = 1, ["windowSeconds"] = 60 }),
                },
                ["failurePolicy"] = "open",
                // The command policy runs only listed scripts: this is the rate_limit plugin's GCRA script.
                ["redis"] = new JsonObject { ["sessions"] = new JsonObject { ["scripts"] = new JsonArray("7c8a1a4fd6b22f3df51a6e234cc0f35eee25627e") } },
            },
        },
        ["redis"] = new JsonObject
        {
            ["sessions"] = new JsonObject
            {
                ["endpoints"] = new JsonArray($"127.0.0.1:{redisPort}"),
                ["passwordFile"] = "/var/run/secrets/redis/password",
                ["timeoutMs"] = 1000,
            },
        },
    };

    private static HttpRequestMessage Get(Uri listener, string path, string clientName)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(listener, path));
        request.Headers.Add("x-client", clientName);
        return request;
    }

    private static async Task WaitUntilReadyAsync(HttpClient client, Uri readyz, ChildProcess gateway)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(gateway.HasExited, $"the gateway exited ({(gateway.HasExited ? gateway.ExitCode : 0)}) before /readyz:\n{gateway.Output}");
            try
            {
                using HttpResponseMessage response = await client.GetAsync(readyz, Cancel);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100, Cancel);
        }

        Assert.Fail($"/readyz not 200 within {StartTimeout}:\n{gateway.Output}");
    }

    /// <summary>What the kernel says about the running process: uid 65532, no capabilities, read-only root.</summary>
    private static void AssertRunsConfined(int pid)
    {
        string[] status = File.ReadAllLines($"/proc/{pid}/status");
        string uid = status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        Assert.Equal(["65532", "65532", "65532", "65532"], uid.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..]);
        Assert.Equal("0000000000000000", status.Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal)).Split('\t')[^1]);

        // mountinfo (proc(5)): field 5 is the mount point as the process sees it, field 6 its options.
        string[] rootMount = File.ReadAllLines($"/proc/{pid}/mountinfo")
            .Select(l => l.Split(' '))
            .Last(fields => fields[4] == "/");
        Assert.Contains("ro", rootMount[5].Split(','));
    }
}
