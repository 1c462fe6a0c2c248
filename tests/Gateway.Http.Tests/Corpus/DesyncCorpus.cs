using System.Globalization;
using System.Text;

namespace Gateway.Http.Tests.Corpus;

/// <summary>
/// Loads the http-desync-guardian YAML files with a reader for exactly the subset they use: a top-level list of
/// maps, two nested levels (headers, expected), plain, single-quoted and double-quoted scalars, comment lines.
/// </summary>
internal static class DesyncCorpus
{
    public const int ExpectedCaseCount = 159;

    public static string? FindDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                string corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus", "http-desync-guardian"));
                return Directory.Exists(corpus) ? corpus : null;
            }
        }
        return null;
    }

    public static IReadOnlyList<DesyncCase> Load(string directory)
    {
        var cases = new List<DesyncCase>();
        foreach (string path in Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            cases.AddRange(ParseFile(Path.GetFileName(path), File.ReadAllLines(path)));
        }
        return cases;
    }

    private static List<DesyncCase> ParseFile(string file, string[] lines)
    {
        var cases = new List<DesyncCase>();
        Dictionary<string, string>? current = null;
        List<DesyncHeader>? headers = null;
        Dictionary<string, string>? header = null;
        string section = "";

        void FlushHeader()
        {
            if (header is not null)
            {
                headers!.Add(new DesyncHeader(header.GetValueOrDefault("name", ""), header.GetValueOrDefault("value", "")));
                header = null;
            }
        }

        void FlushCase()
        {
            FlushHeader();
            if (current is not null)
            {
                cases.Add(new DesyncCase(
                    file, cases.Count, current["name"], current["method"], current["uri"], current["version"],
                    headers!, current["expected.tier"], current["expected.reason"]));
            }
        }

        foreach (string raw in lines)
        {
            string trimmed = raw.TrimStart(' ');
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }
            int indent = raw.Length - trimmed.Length;
            bool item = trimmed.StartsWith("- ", StringComparison.Ordinal);
            string content = item ? trimmed[2..] : trimmed;
            switch (indent, item)
            {
                case (0, true):
                    FlushCase();
                    current = new Dictionary<string, string>();
                    headers = [];
                    section = "";
                    Put(current, "", content);
                    break;
                case (2, false):
                    FlushHeader();
                    (string key, string value) = KeyValue(content);
                    section = key is "headers" or "expected" ? key : "";
                    if (section.Length == 0)
                    {
                        current![key] = value;
                    }
                    break;
                case (4, true) when section == "headers":
                    FlushHeader();
                    header = new Dictionary<string, string>();
                    Put(header, "", content);
                    break;
                case (6, false) when section == "headers":
                    Put(header!, "", content);
                    break;
                case (4, false) when section == "expected":
                    Put(current!, "expected.", content);
                    break;
                case (6, true) when section == "expected":
                    break; // required_message_items: not used by gateway tests
                default:
                    throw new InvalidDataException($"{file}: unexpected YAML line: {raw}");
            }
        }
        FlushCase();
        return cases;
    }

    private static void Put(Dictionary<string, string> map, string prefix, string content)
    {
        (string key, string value) = KeyValue(content);
        map[prefix + key] = value;
    }

    private static (string Key, string Value) KeyValue(string content)
    {
        int colon = content.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw new InvalidDataException($"Not a key/value line: {content}");
        }
        return (content[..colon], Scalar(content[(colon + 1)..].Trim(' ')));
    }

    private static string Scalar(string text)
    {
        if (text.Length == 0)
        {
            return "";
        }
        if (text[0] == '\'')
        {
            int end = text.LastIndexOf('\'');
            return text[1..end].Replace("''", "'", StringComparison.Ordinal);
        }
        if (text[0] == '"')
        {
            return DoubleQuoted(text);
        }
        int comment = text.IndexOf(" #", StringComparison.Ordinal);
        return (comment < 0 ? text : text[..comment]).TrimEnd(' ');
    }

    /// <summary>YAML 1.2 double-quoted scalar on one line, with its escape sequences.</summary>
    private static string DoubleQuoted(string text)
    {
        var result = new StringBuilder();
        for (int i = 1; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '"')
            {
                return result.ToString();
            }
            if (c != '\\')
            {
                result.Append(c);
                continue;
            }
            char e = text[++i];
            switch (e)
            {
                case 'x': result.Append(Hex(text, ref i, 2)); break;
                case 'u': result.Append(Hex(text, ref i, 4)); break;
                case 'U': result.Append(char.ConvertFromUtf32(int.Parse(text.AsSpan(i + 1, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture))); i += 8; break;
                case '0': result.Append('\0'); break;
                case 'a': result.Append('\a'); break;
                case 'b': result.Append('\b'); break;
                case 't': result.Append('\t'); break;
                case 'n': result.Append('\n'); break;
                case 'v': result.Append('\v'); break;
                case 'f': result.Append('\f'); break;
                case 'r': result.Append('\r'); break;
                case 'e': result.Append('\u001b'); break;
                case 'N': result.Append('\u0085'); break;
                case '_': result.Append('\u00a0'); break;
                case 'L': result.Append('\u2028'); break;
                case 'P': result.Append('\u2029'); break;
                case ' ' or '"' or '/' or '\\' or '\t': result.Append(e); break;
                default: throw new InvalidDataException($"Unknown YAML escape \\{e} in {text}");
            }
        }
        throw new InvalidDataException($"Unterminated double-quoted scalar: {text}");
    }

    private static char Hex(string text, ref int i, int digits)
    {
        char c = (char)int.Parse(text.AsSpan(i + 1, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        i += digits;
        return c;
    }
}
