using System.Runtime.InteropServices;
using System.Text;
using Gateway.Testing;

namespace Gateway.Deploy.Tests;

/// <summary>A host file or directory a container sees, read-only, at <paramref name="ContainerPath"/>.</summary>
internal sealed record ContainerMount(string HostPath, string ContainerPath);

/// <summary>
/// The image without a container runtime: a root filesystem holding what
/// gcr.io/distroless/cc-debian12:nonroot holds (Rootfs/distroless-cc-debian12.sh, from the
/// same Debian packages) plus exactly the files of deploy/container/files.txt, copied by
/// the stage.sh that Dockerfile.aot runs. Processes start in it as a container would:
/// own mount namespace, read-only root, read-only config and secret mounts, uid 65532,
/// no capabilities, and only the environment they are given.
/// </summary>
internal sealed partial class DistrolessRoot : IDisposable
{
    public const int NonRootUid = 65532;

    /// <summary>The environment the distroless base image sets (its container config).</summary>
    public static readonly IReadOnlyDictionary<string, string> BaseEnvironment = new Dictionary<string, string>
    {
        ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ["SSL_CERT_FILE"] = "/etc/ssl/certs/ca-certificates.crt",
        ["HOME"] = "/home/nonroot",
    };

    /// <summary>Serializes root builds: the first one downloads the shared .deb cache.</summary>
    private static readonly Lock BuildLock = new();

    private readonly TempFolder _workspace = new("gateway-rootfs-");

    private DistrolessRoot() => RootPath = _workspace.PathOf("root");

    /// <summary>A scratch folder beside the root, for the host side of mounts.</summary>
    public string Workspace => _workspace.Path;

    public string RootPath { get; }

    public static DistrolessRoot Create()
    {
        // A mount namespace and chroot need root; CI runs as root, as the image build does.
        Assert.True(GetEffectiveUserId() == 0, "The root-filesystem tests need root (unshare --mount, chroot).");
        Repository.PublishedGateway();

        var root = new DistrolessRoot();
        try
        {
            lock (BuildLock)
            {
                RunScript("tests/Gateway.Deploy.Tests/Rootfs/distroless-cc-debian12.sh",
                    Repository.PathOf("artifacts/rootfs-cache"), root.RootPath);
            }

            RunScript("deploy/container/stage.sh", ImageFileList.RelativePath, root.RootPath);
            return root;
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts <paramref name="command"/> (a path inside the root and its arguments) as the
    /// image's user. The returned process is the command itself after a chain of execs, so
    /// its PID takes signals and its exit code is the command's.
    /// </summary>
    public ChildProcess Start(IReadOnlyList<string> command, IReadOnlyList<ContainerMount> mounts,
        IReadOnlyDictionary<string, string> environment)
    {
        var script = new StringBuilder();
        script.AppendLine("set -eu");
        string root = Quote(RootPath);
        // A bind mount of the root onto itself, so it can be remounted read-only below.
        script.AppendLine($"mount --bind {root} {root}");
        script.AppendLine($"mount -t proc proc {root}/proc");
        foreach (string node in new[] { "null", "zero", "random", "urandom" })
        {
            script.AppendLine($"mount --bind /dev/{node} {root}/dev/{node}");
        }

        foreach (ContainerMount mount in mounts)
        {
            string target = Path.Combine(RootPath, mount.ContainerPath.TrimStart('/'));
            if (Directory.Exists(mount.HostPath))
            {
                Directory.CreateDirectory(target);
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllBytes(target, []);
            }

            script.AppendLine($"mount --bind {Quote(mount.HostPath)} {Quote(target)}");
            script.AppendLine($"mount -o remount,bind,ro {Quote(target)}");
        }

        script.AppendLine($"mount -o remount,bind,ro {root}");
        script.Append($"exec chroot --userspec={NonRootUid}:{NonRootUid} {root}");
        foreach (string word in command)
        {
            script.Append(' ').Append(Quote(word));
        }

        return ChildProcess.Start("unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script.ToString()],
            environment);
    }

    public void Dispose()
    {
        // The mounts lived in the child's namespace and went with it; only plain files remain.
        _workspace.Dispose();
    }

    private static void RunScript(string script, params string[] arguments)
    {
        var (exitCode, output) = CommandRun.RunAsync("bash", [Repository.PathOf(script), .. arguments], limit: TimeSpan.FromMinutes(5),
            workingDirectory: Repository.Root).GetAwaiter().GetResult();
        Assert.True(exitCode == 0, $"{script} failed ({exitCode}):\n{output}");
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
