using System.Text.Json;

namespace Gateway.Http.Tests.Corpus;

/// <summary>
/// Loads the request-smuggling cases of tests/data/http-desync (one JSON object per line, format in that folder's
/// README), which the test projects copy beside their assembly.
/// </summary>
internal static class DesyncCorpus
{
    public const int ExpectedCaseCount = 159;

    public static string DataFile => Path.Combine(AppContext.BaseDirectory, "Corpus", "desync-cases.jsonl");

    public static IReadOnlyList<DesyncCase> Load()
    {
        var cases = new List<DesyncCase>();
        foreach (string line in File.ReadLines(DataFile))
        {
            if (line.Length > 0)
            {
                cases.Add(Parse(line));
            }
        }
        return cases;
    }

    private static DesyncCase Parse(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        JsonElement root = document.RootElement;
        var fields = new List<DesyncHeader>();
        foreach (JsonElement field in root.GetProperty("fields").EnumerateArray())
        {
            fields.Add(new DesyncHeader(field[0].GetString()!, field[1].GetString()!));
        }
        return new DesyncCase(
            Text(root, "source"), root.GetProperty("index").GetInt32(), Text(root, "name"),
            Text(root, "method"), Text(root, "target"), Text(root, "version"), fields,
            Text(root, "verdict"), Text(root, "reason"));
    }

    private static string Text(JsonElement root, string name) => root.GetProperty(name).GetString()!;
}
