namespace Gateway.Deploy.Tests;

/// <summary>One line of deploy/container/files.txt: a repository file and where the image holds it.</summary>
internal sealed record ImageFile(string Source, string Destination);

/// <summary>
/// deploy/container/files.txt, the one list of files the image adds to its base. The tests read it
/// to know what the image holds; stage.sh (run by both Dockerfile.aot and the root-filesystem test)
/// reads it to copy them.
/// </summary>
internal sealed class ImageFileList
{
    public const string RelativePath = "deploy/container/files.txt";

    private ImageFileList(IReadOnlyList<ImageFile> files) => Files = files;

    public IReadOnlyList<ImageFile> Files { get; }

    public static ImageFileList Load()
    {
        var files = new List<ImageFile>();
        foreach (string rawLine in File.ReadAllLines(Repository.PathOf(RelativePath)))
        {
            string line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            string[] fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2)
            {
                throw new FormatException($"{RelativePath}: expected `source destination`, got `{line}`.");
            }

            files.Add(new ImageFile(fields[0], fields[1]));
        }

        return new ImageFileList(files);
    }

    public ImageFile? AtDestination(string imagePath) => Files.FirstOrDefault(f => f.Destination == imagePath);
}
