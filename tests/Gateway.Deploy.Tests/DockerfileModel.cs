using System.Text;

namespace Gateway.Deploy.Tests;

/// <summary>One instruction of a Dockerfile, continuation lines joined.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments);

/// <summary>One build stage: its FROM image, its optional `AS` name and its instructions.</summary>
internal sealed record DockerStage(string BaseImage, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) =>
        Instructions.Where(i => string.Equals(i.Keyword, keyword, StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// The stages of a Dockerfile, parsed far enough to check what the final image receives
/// (Dockerfile reference: comments, parser directives, backslash line continuation).
/// </summary>
internal sealed class DockerfileModel
{
    private DockerfileModel(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    public DockerStage Final => Stages[^1];

    public DockerStage Stage(string name) =>
        Stages.Single(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    public static DockerfileModel Load(string path)
    {
        var stages = new List<DockerStage>();
        List<DockerInstruction>? current = null;
        string? baseImage = null;
        string? name = null;
        var pending = new StringBuilder();

        foreach (string rawLine in File.ReadAllLines(path))
        {
            string line = rawLine.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending.Append(line, 0, line.Length - 1).Append(' ');
                continue;
            }

            pending.Append(line);
            string instruction = pending.ToString().Trim();
            pending.Clear();
            if (instruction.Length == 0)
            {
                continue;
            }

            int space = instruction.IndexOf(' ');
            string keyword = space < 0 ? instruction : instruction[..space];
            string arguments = space < 0 ? "" : instruction[(space + 1)..].Trim();
            if (string.Equals(keyword, "FROM", StringComparison.OrdinalIgnoreCase))
            {
                if (current is not null)
                {
                    stages.Add(new DockerStage(baseImage!, name, current));
                }

                string[] words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                baseImage = words[0];
                name = words.Length == 3 && string.Equals(words[1], "AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                current = [];
                continue;
            }

            if (current is null)
            {
                throw new FormatException($"{path}: `{keyword}` before the first FROM.");
            }

            current.Add(new DockerInstruction(keyword.ToUpperInvariant(), arguments));
        }

        if (current is not null)
        {
            stages.Add(new DockerStage(baseImage!, name, current));
        }

        return new DockerfileModel(stages);
    }
}
