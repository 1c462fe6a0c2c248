using System.Text.Json.Nodes;
using Gateway.Testing;

namespace Gateway.Deploy.Tests;

/// <summary>The Kubernetes manifests against the gateway's real contract (README, 'Command line' and README, 'Configuration reference').</summary>
public sealed class ManifestTests
{
    /// <summary>The gateway's admin endpoints (docs/design.md, 'Workers'); probes may only hit the health ones.</summary>
    private static readonly string[] HealthEndpoints = ["/healthz", "/readyz"];

    private readonly KubernetesManifests _manifests = KubernetesManifests.Load();
    private readonly PodSpec _pod;

    public ManifestTests() => _pod = new PodSpec(_manifests);

    [Fact]
    public void Kustomization_ListsEveryManifestOnce()
    {
        JsonObject kustomization = _manifests.Single("Kustomization").Body;
        var resources = kustomization["resources"]!.AsArray().Select(r => (string)r!).ToList();
        Assert.Equal(resources.Count, resources.Distinct().Count());
        Assert.Equal(_manifests.Files.Where(f => f != "kustomization.yaml").Order(StringComparer.Ordinal),
            resources.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ConfigMap_IsTheExampleConfigTheImageShips()
    {
        string configMapJson = (string)_manifests.Single("ConfigMap", "gateway-config").Body["data"]!["gateway.json"]!;
        JsonNode example = JsonNode.Parse(File.ReadAllText(Repository.PathOf("deploy/gateway.json")))!;
        Assert.True(JsonNode.DeepEquals(example, JsonNode.Parse(configMapJson)),
            "deploy/kubernetes/configmap.yaml and deploy/gateway.json differ.");
    }

    [Fact]
    public async Task ConfigMap_PassesCheckConfigWithThePodsFiles()
    {
        string gateway = Repository.PublishedGateway();
        var images = ImageFileList.Load();
        using var scratch = new TempFolder("gateway-manifest-");
        // Each mount's files as the kubelet lays them out, at a host path standing in for the mount path.
        foreach (PodMount mount in _pod.Mounts)
        {
            KubernetesVolume.Write(scratch.PathOf(mount.Name), mount.Files);
        }

        // Paths in the config are container paths: resolve them through the mounts, then the image's files.
        JsonNode hostConfig = ConfigFileReferences.Rewrite(_pod.Config, containerPath =>
        {
            if (_pod.MountHolding(containerPath) is PodMount mount)
            {
                return Path.Combine(scratch.Path, mount.Name, containerPath[(mount.MountPath.Length + 1)..]);
            }

            ImageFile? file = images.AtDestination(containerPath);
            Assert.True(file is not null, $"The config reads {containerPath}, which is neither mounted nor in the image.");
            return Repository.PathOf(file.Source);
        });
        string configPath = scratch.PathOf("gateway.json");
        File.WriteAllText(configPath, hostConfig.ToJsonString());

        var environment = new Dictionary<string, string> { ["PATH"] = DistrolessRoot.BaseEnvironment["PATH"] };
        foreach (var (name, value) in _pod.GatewayEnvironment)
        {
            environment[name] = value;
        }

        var (exitCode, output) = await CommandRun.RunAsync(gateway, ["--check-config", configPath], limit: TimeSpan.FromMinutes(1),
            environment: environment, workingDirectory: Repository.Root);
        Assert.True(exitCode == 0, $"gateway --check-config rejected the ConfigMap's gateway.json:\n{output}");
    }

    [Fact]
    public void SecretMounts_AreExactlyThePasswordFilesOfTheConfig()
    {
        var referenced = ConfigFileReferences.Find(_pod.Config)
            .Where(path => _pod.MountHolding(path) is { Kind: "Secret" }).Order(StringComparer.Ordinal).ToList();
        var mounted = _pod.Mounts.Where(m => m.Kind == "Secret")
            .SelectMany(m => m.Files.Keys.Select(key => m.MountPath + "/" + key)).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(mounted, referenced);
        foreach (var passwordFile in PasswordFiles(_pod.Config))
        {
            Assert.True(_pod.MountHolding(passwordFile) is { Kind: "Secret" }, $"passwordFile {passwordFile} is not on a Secret mount.");
        }

        Assert.NotEmpty(mounted);
    }

    [Fact]
    public void Mounts_AreReadOnlyDirectoriesTheGatewayCanWatch()
    {
        Assert.NotEmpty(_pod.Mounts);
        foreach (PodMount mount in _pod.Mounts)
        {
            // The one writable mount is the compiled-module cache, an emptyDir holding nothing the gateway trusts from outside.
            Assert.True(mount.ReadOnly || mount.Kind == "EmptyDir", $"Mount {mount.Name} is not readOnly.");
            // A subPath mount never sees the kubelet's ..data swap, so hot reload would miss updates.
            Assert.False(mount.UsesSubPath, $"Mount {mount.Name} uses subPath.");
        }

        PodMount config = Assert.Single(_pod.Mounts, m => m.Kind == "ConfigMap");
        Assert.Equal(config, _pod.MountHolding(_pod.ConfigPath));
    }

    [Fact]
    public void ContainerPorts_AreTheListenerAndAdminPorts()
    {
        var declared = _pod.Container["ports"]!.AsArray().Select(p => (int)p!["containerPort"]!).Order().ToList();
        var listeners = _pod.Config["listeners"]!.AsArray().Select(l => (int)l!["port"]!).ToList();
        int admin = (int)_pod.Config["admin"]!["port"]!;
        Assert.Equal(listeners.Append(admin).Order(), declared);
        Assert.Equal(admin, _pod.ContainerPort(JsonValue.Create("admin")));

        // Kubelet probes and the Service reach the pod IP, not its loopback.
        Assert.Equal("0.0.0.0", (string)_pod.Config["admin"]!["address"]!);
        Assert.All(_pod.Config["listeners"]!.AsArray(), l => Assert.Equal("0.0.0.0", (string)l!["address"]!));

        JsonObject service = _manifests.Single("Service", "gateway").Body;
        foreach (JsonNode? port in service["spec"]!["ports"]!.AsArray())
        {
            int target = _pod.ContainerPort(port!["targetPort"]!);
            Assert.Contains(target, listeners);
        }
    }

    [Fact]
    public void Probes_HitTheAdminHealthEndpoints()
    {
        int admin = (int)_pod.Config["admin"]!["port"]!;
        Assert.Equal("/healthz", (string)_pod.Container["livenessProbe"]!["httpGet"]!["path"]!);
        Assert.Equal("/readyz", (string)_pod.Container["readinessProbe"]!["httpGet"]!["path"]!);
        foreach (var (path, port) in Probes(_pod))
        {
            Assert.Contains(path, HealthEndpoints);
            Assert.Equal(admin, _pod.ContainerPort(port));
        }
    }

    [Fact]
    public void TerminationGracePeriod_OutlastsPreStopAndDrain()
    {
        int grace = (int)_pod.Pod["terminationGracePeriodSeconds"]!;
        int preStop = (int)_pod.Container["lifecycle"]!["preStop"]!["sleep"]!["seconds"]!;
        JsonNode? shutdown = _pod.Config["shutdown"];
        // Gateway defaults when the keys are absent: 15 s drain, no listener delay.
        long drainMs = (long?)shutdown?["drainTimeoutMs"] ?? 15000;
        long closeDelayMs = (long?)shutdown?["listenerCloseDelayMs"] ?? 0;
        Assert.True(grace * 1000L > preStop * 1000L + closeDelayMs + drainMs,
            $"terminationGracePeriodSeconds {grace} does not cover preStop {preStop} s + listener close delay {closeDelayMs} ms + drain {drainMs} ms.");
        Assert.True(preStop > 0, "preStop must hold the pod while endpoints stop routing to it.");
    }

    [Fact]
    public void Container_RunsNonRootReadOnlyWithoutCapabilities()
    {
        JsonObject security = _pod.Container["securityContext"]!.AsObject();
        Assert.Equal(DistrolessRoot.NonRootUid, (int)(security["runAsUser"] ?? _pod.Pod["securityContext"]!["runAsUser"])!);
        Assert.True((bool)security["runAsNonRoot"]!);
        Assert.True((bool)security["readOnlyRootFilesystem"]!);
        Assert.False((bool)security["allowPrivilegeEscalation"]!);
        Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(c => (string)c!));
        Assert.Null(security["capabilities"]!["add"]);

        JsonObject resources = _pod.Container["resources"]!.AsObject();
        foreach (string bound in new[] { "requests", "limits" })
        {
            Assert.NotNull(resources[bound]?["cpu"]);
            Assert.NotNull(resources[bound]?["memory"]);
        }
    }

    [Fact]
    public void ServiceBudgetAndAutoscaler_SelectTheGatewayPods()
    {
        JsonObject podLabels = _pod.Deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        JsonObject deploymentSelector = _pod.Deployment["spec"]!["selector"]!["matchLabels"]!.AsObject();
        AssertSelects(deploymentSelector, podLabels);
        AssertSelects(_manifests.Single("Service", "gateway").Body["spec"]!["selector"]!.AsObject(), podLabels);
        AssertSelects(_manifests.Single("PodDisruptionBudget").Body["spec"]!["selector"]!["matchLabels"]!.AsObject(), podLabels);

        JsonObject autoscaler = _manifests.Single("HorizontalPodAutoscaler").Body;
        Assert.Equal("Deployment", (string)autoscaler["spec"]!["scaleTargetRef"]!["kind"]!);
        Assert.Equal("gateway", (string)autoscaler["spec"]!["scaleTargetRef"]!["name"]!);
        // The autoscaler owns the replica count; with at least 2 pods the budget never empties the Service.
        Assert.Null(_pod.Deployment["spec"]!["replicas"]);
        Assert.True((int)autoscaler["spec"]!["minReplicas"]! >= 2);
    }

    /// <summary>Every (path, port) of the container's httpGet probes.</summary>
    internal static List<(string Path, JsonNode Port)> Probes(PodSpec pod)
    {
        var probes = new List<(string, JsonNode)>();
        foreach (string name in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            if (pod.Container[name]?["httpGet"] is JsonObject httpGet)
            {
                probes.Add(((string)httpGet["path"]!, httpGet["port"]!));
            }
        }

        return probes;
    }

    private static IEnumerable<string> PasswordFiles(JsonNode node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => p.Key == "passwordFile" && p.Value is JsonNode v
            ? [(string)v!]
            : p.Value is JsonNode child ? PasswordFiles(child) : []),
        JsonArray array => array.SelectMany(item => item is null ? [] : PasswordFiles(item)),
        _ => [],
    };

    private static void AssertSelects(JsonObject selector, JsonObject labels)
    {
        Assert.NotEmpty(selector);
        foreach (var (key, value) in selector)
        {
            Assert.Equal((string)value!, (string?)labels[key]);
        }
    }
}
