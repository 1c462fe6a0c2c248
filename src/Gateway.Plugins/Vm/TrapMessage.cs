using System.Globalization;
using System.Text;

namespace Gateway.Plugins.Vm;

/// <summary>
/// Turns Wasmtime's multi-line error text into one line an operator can act on. Wasmtime leads with
/// "error while executing at wasm backtrace:", then the frames, then the causes; the cause and the frame are what
/// matter: <c>wasm trap: out of bounds memory access at 0xfffffffc, in proxy_on_configure</c>.
/// </summary>
internal static class TrapMessage
{
    private const string BacktraceHeader = "error while executing at wasm backtrace:";
    private const string FaultPrefix = "memory fault at wasm address ";

    /// <summary>The root cause, the faulting address when there is one, and the innermost function of the backtrace.</summary>
    public static string OneLine(string message, IReadOnlyDictionary<uint, string>? exports = null)
    {
        string? rootCause = null;
        string? address = null;
        string? innermost = null;
        string? outermost = null;
        bool causes = false;
        var others = new List<string>();
        foreach (string raw in message.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line == BacktraceHeader || line.StartsWith("note:", StringComparison.Ordinal))
            {
                continue;
            }
            if (line == "Caused by:")
            {
                causes = true;
                continue;
            }
            if (!causes && TryFrameFunction(line, exports, out string? function))
            {
                innermost ??= function;
                outermost = function;
                continue;
            }
            string text = causes ? WithoutIndex(line) : line;
            if (text.StartsWith(FaultPrefix, StringComparison.Ordinal))
            {
                int end = text.IndexOf(' ', FaultPrefix.Length);
                address = end < 0 ? text[FaultPrefix.Length..] : text[FaultPrefix.Length..end];
                continue;
            }
            if (causes)
            {
                // anyhow lists the outer context first and the root cause last.
                rootCause = text;
            }
            else
            {
                others.Add(text);
            }
        }

        var result = new StringBuilder();
        result.Append(rootCause ?? (others.Count > 0 ? string.Join("; ", others) : message.Trim()));
        if (address is not null)
        {
            result.Append(" at ").Append(address);
        }
        if (innermost is not null)
        {
            result.Append(", in ").Append(innermost);
            if (outermost is not null && outermost != innermost)
            {
                result.Append(" called from ").Append(outermost);
            }
        }
        return result.ToString();
    }

    /// <summary>A backtrace line reads <c>3: 0x1d2 - module!function</c>; the name is <c>&lt;wasm function N&gt;</c> when stripped.</summary>
    private static bool TryFrameFunction(string line, IReadOnlyDictionary<uint, string>? exports, out string? function)
    {
        function = null;
        int colon = line.IndexOf(':');
        if (colon <= 0 || !int.TryParse(line.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }
        string rest = line[(colon + 1)..].TrimStart();
        if (!rest.StartsWith("0x", StringComparison.Ordinal))
        {
            return false;
        }
        int bang = rest.IndexOf('!');
        string name = bang < 0 ? rest : rest[(bang + 1)..];
        function = name.StartsWith('<') && name.EndsWith('>') ? name[1..^1] : name;
        const string Unnamed = "wasm function ";
        if (exports is not null && function.StartsWith(Unnamed, StringComparison.Ordinal)
            && uint.TryParse(function.AsSpan(Unnamed.Length), NumberStyles.None, CultureInfo.InvariantCulture, out uint index)
            && exports.TryGetValue(index, out string? exported))
        {
            function = exported;
        }
        return true;
    }

    private static string WithoutIndex(string line)
    {
        int colon = line.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && int.TryParse(line.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? line[(colon + 2)..]
            : line;
    }
}
