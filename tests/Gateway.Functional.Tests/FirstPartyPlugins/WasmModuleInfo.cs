using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// The imports and exports of a compiled module, with their signatures, as wabt's
/// <c>wasm-objdump -x</c> reports them (after <c>wasm-validate</c> accepted the module).
/// </summary>
public sealed partial class WasmModuleInfo
{
    private WasmModuleInfo(Dictionary<string, string> imports, Dictionary<string, string> exports)
    {
        Imports = imports;
        Exports = exports;
    }

    /// <summary>"module.name" → "(i32, i32) -> i32".</summary>
    public IReadOnlyDictionary<string, string> Imports { get; }

    /// <summary>Export name → signature; "memory" for the exported memory.</summary>
    public IReadOnlyDictionary<string, string> Exports { get; }

    public static WasmModuleInfo Read(string path)
    {
        Run("wasm-validate", path);
        string dump = Run("wasm-objdump", "-x", path);
        var types = new Dictionary<int, string>();
        var functionTypes = new Dictionary<int, int>();
        var imports = new Dictionary<string, string>(StringComparer.Ordinal);
        var exports = new Dictionary<string, string>(StringComparer.Ordinal);
        string section = "";
        foreach (string line in dump.Split('\n'))
        {
            Match header = SectionHeader().Match(line);
            if (header.Success)
            {
                section = header.Groups[1].Value;
                continue;
            }
            switch (section)
            {
                case "Type" when TypeLine().Match(line) is { Success: true } t:
                    types[int.Parse(t.Groups[1].Value)] = t.Groups[2].Value.Trim();
                    break;
                case "Import" when ImportLine().Match(line) is { Success: true } i:
                    functionTypes[int.Parse(i.Groups[1].Value)] = int.Parse(i.Groups[2].Value);
                    imports[i.Groups[3].Value] = types[int.Parse(i.Groups[2].Value)];
                    break;
                case "Function" when FunctionLine().Match(line) is { Success: true } f:
                    functionTypes[int.Parse(f.Groups[1].Value)] = int.Parse(f.Groups[2].Value);
                    break;
                case "Export" when ExportLine().Match(line) is { Success: true } e:
                    exports[e.Groups[3].Value] = e.Groups[1].Value == "memory"
                        ? "memory"
                        : types[functionTypes[int.Parse(e.Groups[2].Value)]];
                    break;
            }
        }
        return new WasmModuleInfo(imports, exports);
    }

    private static string Run(string tool, params string[] arguments)
    {
        var (exit, stdout, stderr) = CommandRun.CaptureAsync(tool, arguments).GetAwaiter().GetResult();
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)} failed:\n{stderr}");
        return stdout;
    }

    [GeneratedRegex(@"^(\w+)\[\d+\]:")]
    private static partial Regex SectionHeader();

    [GeneratedRegex(@"^ - type\[(\d+)\] (.*)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^ - func\[(\d+)\] sig=(\d+) <[^>]*> <- (\S+)$")]
    private static partial Regex ImportLine();

    [GeneratedRegex(@"^ - func\[(\d+)\] sig=(\d+)")]
    private static partial Regex FunctionLine();

    [GeneratedRegex(@"^ - (func|memory)\[(\d+)\].* -> ""([^""]+)""$")]
    private static partial Regex ExportLine();
}
