using Gateway.Testing;

namespace Gateway.Deploy.Tests;

/// <summary>Dockerfile.aot, deploy/container/files.txt and stage.sh agree on what the image holds.</summary>
public sealed class ImageContentsTests
{
    private const string StageCommand = "deploy/container/stage.sh deploy/container/files.txt /image";

    private readonly DockerfileModel _dockerfile = DockerfileModel.Load(Repository.PathOf("Dockerfile.aot"));
    private readonly ImageFileList _files = ImageFileList.Load();

    [Fact]
    public void FinalStage_IsDistrolessNonRootWithOnlyTheStagedFiles()
    {
        DockerStage final = _dockerfile.Final;
        Assert.Equal("gcr.io/distroless/cc-debian12:nonroot", final.BaseImage);
        Assert.Empty(final.All("ADD"));
        Assert.Empty(final.All("RUN"));
        // One COPY, of the folder stage.sh filled from files.txt: nothing reaches the image beside the list.
        DockerInstruction copy = Assert.Single(final.All("COPY"));
        Assert.Equal("--from=build /image/ /", copy.Arguments);
        Assert.Contains(_dockerfile.Stage("build").All("RUN"), run => run.Arguments == StageCommand);
        Assert.Equal($"{DistrolessRoot.NonRootUid}:{DistrolessRoot.NonRootUid}", Assert.Single(final.All("USER")).Arguments);
    }

    [Fact]
    public void FinalStage_EntrypointAndConfigPathAreListedFiles()
    {
        DockerStage final = _dockerfile.Final;
        Assert.Equal("[\"/app/gateway\"]", Assert.Single(final.All("ENTRYPOINT")).Arguments);
        Assert.Equal("artifacts/bin/gateway", _files.AtDestination("/app/gateway")?.Source);

        var environment = ImageEnvironment(_dockerfile);
        Assert.Equal("/etc/gateway/gateway.json", environment["GATEWAY_CONFIG"]);
        Assert.Equal("deploy/gateway.json", _files.AtDestination(environment["GATEWAY_CONFIG"])?.Source);
    }

    [Fact]
    public void FinalStage_ExposesThePortsOfTheDefaultConfig()
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Repository.PathOf("deploy/gateway.json")))!;
        var ports = config["listeners"]!.AsArray().Select(l => (int)l!["port"]!).Append((int)config["admin"]!["port"]!).Order();
        var exposed = _dockerfile.Final.All("EXPOSE").SelectMany(e => e.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse).Order();
        Assert.Equal(ports, exposed);
    }

    [Fact]
    public void PluginStage_BuildsEveryListedPluginThroughTheList()
    {
        // The plugin stage derives its make targets from files.txt, so every listed plugin is built.
        DockerStage plugins = _dockerfile.Stage("plugins");
        Assert.Contains(plugins.All("COPY"), c => c.Arguments == "deploy/container/files.txt deploy/container/files.txt");
        Assert.Contains(plugins.All("RUN"), r => r.Arguments.StartsWith("make -C plugins $(awk", StringComparison.Ordinal)
            && r.Arguments.Contains("artifacts\\/plugins\\/", StringComparison.Ordinal));
        Assert.Contains(_files.Files, f => f.Source.StartsWith("artifacts/plugins/", StringComparison.Ordinal));
        Assert.All(_files.Files.Where(f => f.Source.StartsWith("artifacts/plugins/", StringComparison.Ordinal)),
            f => Assert.StartsWith("/app/plugins/", f.Destination));
    }

    [Fact]
    public void FileList_CoversEveryPublishedFile()
    {
        // A native library added to the publish output but not to the list would be missing
        // from the image and fail only at run time.
        string published = Path.GetDirectoryName(Repository.PublishedGateway())!;
        foreach (string file in Directory.GetFiles(published))
        {
            string relative = Path.GetRelativePath(Repository.Root, file).Replace('\\', '/');
            Assert.True(_files.Files.Any(f => f.Source == relative), $"{relative} is published but not in {ImageFileList.RelativePath}.");
        }
    }

    [Fact]
    public async Task StageScript_CopiesExactlyTheListedFiles()
    {
        Repository.PublishedGateway();
        using var image = new TempFolder("gateway-image-");
        var (exitCode, output) = await CommandRun.RunAsync("bash",
            [Repository.PathOf("deploy/container/stage.sh"), ImageFileList.RelativePath, image.Path], limit: TimeSpan.FromMinutes(2),
            workingDirectory: Repository.Root);
        Assert.True(exitCode == 0, output);

        var staged = Directory.GetFiles(image.Path, "*", SearchOption.AllDirectories)
            .Select(f => "/" + Path.GetRelativePath(image.Path, f)).Order(StringComparer.Ordinal);
        Assert.Equal(_files.Files.Select(f => f.Destination).Order(StringComparer.Ordinal), staged);
        foreach (ImageFile file in _files.Files)
        {
            string copy = image.PathOf(file.Destination.TrimStart('/'));
            Assert.Equal(File.ReadAllBytes(Repository.PathOf(file.Source)), File.ReadAllBytes(copy));
            // Files belong to root and nobody else may write them: the gateway (65532) cannot alter its own code.
            Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(copy) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        }

        Assert.True(File.GetUnixFileMode(image.PathOf("app/gateway")).HasFlag(UnixFileMode.OtherExecute));
    }

    /// <summary>The ENV of the final stage (`ENV NAME=value` form only, which Dockerfile.aot uses).</summary>
    internal static Dictionary<string, string> ImageEnvironment(DockerfileModel dockerfile)
    {
        var environment = new Dictionary<string, string>(DistrolessRoot.BaseEnvironment);
        foreach (DockerInstruction env in dockerfile.Final.All("ENV"))
        {
            foreach (string assignment in env.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int equals = assignment.IndexOf('=');
                Assert.True(equals > 0, $"ENV {env.Arguments}: use NAME=value.");
                environment[assignment[..equals]] = assignment[(equals + 1)..];
            }
        }

        return environment;
    }
}
