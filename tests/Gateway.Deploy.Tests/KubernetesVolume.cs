namespace Gateway.Deploy.Tests;

/// <summary>
/// Writes a directory the way the kubelet lays out a ConfigMap or Secret volume: the files
/// live in a timestamped folder, `..data` points at it, and each key is a symlink through
/// `..data`, so an update is one atomic rename of `..data`.
/// </summary>
internal static class KubernetesVolume
{
    public static void Write(string directory, IReadOnlyDictionary<string, string> files)
    {
        string version = "..2026_01_01_00_00_00.000000001";
        Directory.CreateDirectory(Path.Combine(directory, version));
        foreach (var (key, content) in files)
        {
            File.WriteAllText(Path.Combine(directory, version, key), content);
            File.CreateSymbolicLink(Path.Combine(directory, key), Path.Combine("..data", key));
        }

        File.CreateSymbolicLink(Path.Combine(directory, "..data"), version);
    }
}
