using Gateway.Plugins.Abi;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Host;

/// <summary>How imports refuse what a plugin asks past the host's bounds: counted, logged once a second, an error status.</summary>
internal static partial class HostFunctions
{
    private static WasmResult Refuse(PluginVm vm, HostLimit limit, string detail, WasmResult status = WasmResult.BadArgument)
    {
        vm.ActingPlugin.Refuse(limit, detail);
        return status;
    }

    /// <summary>The import result of a header write; a refusal names the field, never its value (it may be a secret).</summary>
    private static WasmResult HeaderResult(PluginVm vm, HeaderVerdict verdict, string name) => verdict switch
    {
        HeaderVerdict.Write or HeaderVerdict.Ignore => WasmResult.Ok,
        HeaderVerdict.TooLarge => Refuse(vm, HostLimit.HeaderSize, $"header '{Printable(name)}' would exceed limits.maxHeaderCount or limits.maxHeaderBytes"),
        _ => Refuse(vm, HostLimit.HeaderSyntax, $"invalid header '{Printable(name)}' or value"),
    };

    /// <summary>A name as it can go into a log line: at most 64 characters, controls shown as '?'.</summary>
    private static string Printable(string name)
    {
        var chars = name.Length > 64 ? name.AsSpan(0, 64) : name.AsSpan();
        return string.Create(chars.Length, name, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                char c = source[i];
                span[i] = c is < ' ' or > '~' ? '?' : c;
            }
        });
    }
}
