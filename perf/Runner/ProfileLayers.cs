using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Perf.Runner;

/// <summary>The share of a profile's samples whose running frame (self) belongs to one layer.</summary>
public sealed record LayerShare(string Layer, double SelfPercent);

/// <summary>
/// Sums a profile's self time by layer, from `perf script`'s samples (each one's period, its running frame and that
/// frame's caller), so the report can say which layer's code the gateway spends more CPU in than nginx. A layer is
/// read from the frame's module and its symbol's namespace prefix (NativeAOT names a method
/// `Assembly_Namespace_Type__Method`, generic arguments after the first '&lt;', unboxing stubs prefixed `unbox_`).
/// </summary>
public static partial class ProfileLayers
{
    /// <summary>The layers in the order the report lists them.</summary>
    public static readonly string[] Names =
    [
        "kernel",
        "own code (`Gateway_*`; all of nginx's binary)",
        ".NET sockets (`System_Net_Sockets_*`)",
        "System.IO.Pipelines",
        "async machinery and threading (`CompilerServices`, `Threading`, `ExecutionContext`, `Tasks`)",
        "GC and allocation (`WKS::`, `gc_heap`, `RhpNew*`, `RhpGcAlloc`, libc memset from the GC, `Array__Clear`)",
        "runtime helpers (other `Rh*`, `TypeCast`)",
        "other CoreLib and System.* libraries",
        "libc, vdso, System.Native shim",
        "other (other libraries, unresolved)",
    ];

    private const int Kernel = 0, Own = 1, Sockets = 2, Pipelines = 3, Async = 4, Gc = 5, RuntimeHelpers = 6, CoreLib = 7, Libc = 8, Other = 9;

    /// <summary>Self share by layer, in <see cref="Names"/> order, from `perf script -F period,event,ip,sym,dso` output.</summary>
    public static List<LayerShare> FromScript(IEnumerable<string> lines)
    {
        var periods = new double[Names.Length];
        var total = 0.0;
        long period = -1;
        (string Dso, string Symbol)? leaf = null;
        string? caller = null;
        foreach (var line in lines)
        {
            if (line.Length == 0)
            {
                continue;
            }
            var header = Header().Match(line);
            if (header.Success || !char.IsWhiteSpace(line[0]))
            {
                Add();
                period = header.Success ? long.Parse(header.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
                leaf = null;
                caller = null;
                continue;
            }
            var frame = Frame().Match(line);
            if (!frame.Success)
            {
                continue;
            }
            if (leaf is null)
            {
                leaf = (frame.Groups[2].Value, frame.Groups[1].Value.Trim());
            }
            else
            {
                caller ??= frame.Groups[1].Value.Trim();
            }
        }
        Add();
        var shares = new List<LayerShare>(Names.Length);
        for (var i = 0; i < Names.Length; i++)
        {
            shares.Add(new LayerShare(Names[i], total > 0 ? 100 * periods[i] / total : 0));
        }
        return shares;

        void Add()
        {
            if (period < 0)
            {
                return;
            }
            periods[leaf is { } running ? Of(running.Dso, running.Symbol, caller) : Other] += period;
            total += period;
        }
    }

    /// <summary>The layer of a running frame, given its module, its symbol and its caller's symbol.</summary>
    private static int Of(string dso, string symbol, string? caller)
    {
        if (dso.StartsWith("[kernel", StringComparison.Ordinal))
        {
            return Kernel;
        }
        var name = Namespace(symbol);
        if (IsGc(name) || (IsLibc(dso) && caller is not null && IsGc(Namespace(caller))))
        {
            return Gc;
        }
        // nginx's binary keeps only its exported names: its static functions stay [unknown], and are its own code too.
        if (name.StartsWith("Gateway_", StringComparison.Ordinal) || name.StartsWith("gateway_Gateway_", StringComparison.Ordinal) ||
            Path.GetFileName(dso) == "nginx")
        {
            return Own;
        }
        if (name.StartsWith("System_Net_Sockets_", StringComparison.Ordinal))
        {
            return Sockets;
        }
        if (name.StartsWith("System_IO_Pipelines_", StringComparison.Ordinal))
        {
            return Pipelines;
        }
        if (name.Contains("CompilerServices", StringComparison.Ordinal) || name.Contains("Threading", StringComparison.Ordinal) ||
            name.Contains("ExecutionContext", StringComparison.Ordinal) || name.Contains("Tasks", StringComparison.Ordinal))
        {
            return Async;
        }
        if (name.StartsWith("Rh", StringComparison.Ordinal) || name.Contains("TypeCast", StringComparison.Ordinal) ||
            name.StartsWith("minipal_", StringComparison.Ordinal))
        {
            return RuntimeHelpers;
        }
        if (name.StartsWith("S_P_", StringComparison.Ordinal) || name.StartsWith("System_", StringComparison.Ordinal) || CoreLibPrimitive().IsMatch(name))
        {
            return CoreLib;
        }
        if (IsLibc(dso) || name.StartsWith("SystemNative_", StringComparison.Ordinal))
        {
            return Libc;
        }
        return Other;
    }

    /// <summary>The symbol without its generic arguments and unboxing-stub prefix: the part that names assembly, namespace and type.</summary>
    private static string Namespace(string symbol)
    {
        var generic = symbol.IndexOf('<');
        var name = generic < 0 ? symbol : symbol[..generic];
        return name.StartsWith("unbox_", StringComparison.Ordinal) ? name["unbox_".Length..] : name;
    }

    private static bool IsGc(string name) =>
        name.Contains("WKS::", StringComparison.Ordinal) || name.Contains("SVR::", StringComparison.Ordinal) ||
        name.Contains("gc_heap", StringComparison.Ordinal) || name.StartsWith("RhpNew", StringComparison.Ordinal) ||
        name.StartsWith("RhNew", StringComparison.Ordinal) || name.StartsWith("RhpGcAlloc", StringComparison.Ordinal) ||
        name.Contains("Array__Clear", StringComparison.Ordinal);

    private static bool IsLibc(string dso)
    {
        var file = Path.GetFileName(dso);
        return dso == "[vdso]" || file.StartsWith("libc.so", StringComparison.Ordinal) || file.StartsWith("libc-", StringComparison.Ordinal) ||
               file.StartsWith("ld-linux", StringComparison.Ordinal) || file.StartsWith("libm.so", StringComparison.Ordinal);
    }

    /// <summary>A sample's first line: "  PERIOD EVENT:".</summary>
    [GeneratedRegex(@"^\s*(\d+)\s+[\w:.-]+:\s*$")]
    private static partial Regex Header();

    /// <summary>A frame: "\tADDRESS SYMBOL (MODULE)"; a demangled C++ symbol may hold spaces and parentheses.</summary>
    [GeneratedRegex(@"^\s+[0-9a-f]+\s+(.*)\s+\((.*)\)$")]
    private static partial Regex Frame();

    /// <summary>CoreLib's primitive types keep no assembly prefix in NativeAOT symbols: `String__Equals_3`, `Int32__ToString`.</summary>
    [GeneratedRegex(@"^(String|Object|Int16|Int32|Int64|UInt16|UInt32|UInt64|Byte|SByte|Char|Boolean|Double|Single|IntPtr|UIntPtr)__")]
    private static partial Regex CoreLibPrimitive();
}
