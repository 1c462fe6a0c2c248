using System.Text.RegularExpressions;

namespace Gateway.Deploy.Tests;

/// <summary>
/// What keeps the repository readable by the next team: every HTTP/1.1 rule id the code cites is defined in
/// docs/http1-rules.md, and no source file grows past 500 lines.
/// </summary>
public sealed partial class HandoverRulesTests
{
    private const int MaxLines = 500;

    private static readonly string[] SourceFolders = ["src", "tests", "plugins", "perf", "scripts"];

    private static readonly string[] SourceExtensions = [".cs", ".c", ".h", ".ts", ".sh"];

    [Fact]
    public void EveryRuleIdTheSourceCites_IsDefinedInTheDocs()
    {
        string rules = File.ReadAllText(Repository.PathOf("docs/http1-rules.md"));
        var defined = DefinedRule().Matches(rules).Select(m => m.Groups["id"].Value).ToHashSet(StringComparer.Ordinal);
        var families = defined.Select(id => id[..id.IndexOf('-')]).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(defined);

        var undefined = new List<string>();
        foreach (string file in SourceFiles())
        {
            foreach (Match cited in CitedRule().Matches(File.ReadAllText(file)))
            {
                string id = cited.Value;
                if (families.Contains(id[..id.IndexOf('-')]) && !defined.Contains(id))
                {
                    undefined.Add($"{Path.GetRelativePath(Repository.Root, file)}: {id}");
                }
            }
        }

        Assert.True(undefined.Count == 0, "cited but not defined in docs/http1-rules.md:\n" + string.Join('\n', undefined.Distinct()));
    }

    [Fact]
    public void NoSourceFile_IsOver500Lines()
    {
        var tooLong = SourceFiles()
            .Select(file => (File: Path.GetRelativePath(Repository.Root, file), Lines: File.ReadLines(file).Count()))
            .Where(f => f.Lines > MaxLines)
            .Select(f => $"{f.File}: {f.Lines} lines")
            .ToList();
        Assert.True(tooLong.Count == 0, string.Join('\n', tooLong));
    }

    private static IEnumerable<string> SourceFiles() =>
        SourceFolders
            .Select(Repository.PathOf)
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .Where(file => SourceExtensions.Contains(Path.GetExtension(file), StringComparer.Ordinal))
            .Where(file => !IsGenerated(Path.GetRelativePath(Repository.Root, file)));

    /// <summary>Build outputs and installed packages are not ours to keep short.</summary>
    private static bool IsGenerated(string relative) =>
        relative.Split(Path.DirectorySeparatorChar) is var parts
        && parts.Any(part => part is "bin" or "obj" or "node_modules");

    /// <summary>A rule's definition: a list item that starts with its id in bold, e.g. "- **KA-3 Persistence.**".</summary>
    [GeneratedRegex(@"^- \*\*(?<id>[A-Z]+-[0-9]+)\b", RegexOptions.Multiline)]
    private static partial Regex DefinedRule();

    [GeneratedRegex(@"\b[A-Z]{1,4}-[0-9]{1,2}\b")]
    private static partial Regex CitedRule();
}
