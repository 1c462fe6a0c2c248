using System.Diagnostics;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Logging;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>
/// Links the host functions a module imports (docs/proxy-wasm.md, 'Other imports'). Every import gets exactly the type the module declares
/// (docs/proxy-wasm.md, 'Loading and VMs'): a known name with the documented type is bound to its implementation; anything else, or a
/// known name declared with another type, gets a generic stub that logs its first call (docs/proxy-wasm.md, 'Other imports').
/// </summary>
internal static partial class HostFunctions
{
    /// <summary>An <c>env</c> import that returns a <c>proxy_status_t</c>.</summary>
    private delegate WasmResult ProxyImport(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args);

    /// <summary>A WASI import that returns an errno.</summary>
    private delegate int WasiImport(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args);

    /// <summary>An import's type and body: a typed one returning an i32 (<see cref="ImportBinding"/>), or an untyped callback.</summary>
    private sealed record Definition(ValueKind[] Parameters, ValueKind[] Results, ImportBody? Body, Function.UntypedCallbackDelegate? Callback = null);

    private static readonly Dictionary<string, Definition> EnvFunctions = BuildEnv();
    private static readonly Dictionary<string, Definition> WasiFunctions = BuildWasi();

    [ThreadStatic]
    private static List<KeyValuePair<string, string>>? t_pairs;

    /// <summary>Scratch pairs for decoding a header map; imports never nest, so one list per worker thread is enough.</summary>
    private static List<KeyValuePair<string, string>> Pairs => t_pairs ??= [];

    /// <summary>The <c>env</c> imports, one ABI section per file.</summary>
    private static Dictionary<string, Definition> BuildEnv()
    {
        var env = new Dictionary<string, Definition>(StringComparer.Ordinal);
        AddLogging(env);
        AddBuffers(env);
        AddHeaderMaps(env);
        AddStreamControl(env);
        AddHttpCall(env);
        AddMetrics(env);
        AddSharedState(env);
        AddProperties(env);
        AddContexts(env);
        AddForeignFunctions(env);
        AddToolchains(env);

        // Higress extras: Redis and SQL calls (their own file), and upstream-host imports with no equivalent here.
        Add(env, "proxy_redis_init", "iiiiiii", RedisInit);
        Add(env, "proxy_redis_call", "iiiii", RedisCall);
        Add(env, "proxy_sql_call", "iiiiiiii", SqlCall);
        Add(env, "proxy_inject_encoded_data_to_filter_chain", "iii", (vm, c, a) => WasmResult.Unimplemented);
        Add(env, "proxy_get_upstream_hosts", "ii", (vm, c, a) => GuestMemory.Return(vm, c, [], a[0].AsInt32(), a[1].AsInt32()));
        Add(env, "proxy_set_upstream_override_host", "ii", (vm, c, a) => WasmResult.Unimplemented);
        return env;
    }

    private static ulong UnixNanoseconds() => (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    private static long MonotonicNanoseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));

    public static void Link(Linker linker, Module module, string label, List<string> errors)
    {
        // Go 1.24+ modules import some WASI functions twice (two entries, same module, name and type); the linker
        // refuses a second definition, and one definition satisfies both entries.
        var defined = new Dictionary<(string Module, string Name), FunctionImport>();
        foreach (var import in module.Imports)
        {
            if (import is not FunctionImport function)
            {
                errors.Add($"plugin '{label}': imports {import.ModuleName}.{import.Name}, which is not a function; the host provides none");
                continue;
            }
            if (defined.TryGetValue((function.ModuleName, function.Name), out var first))
            {
                if (!SameKinds([.. first.Parameters], function.Parameters) || !SameKinds([.. first.Results], function.Results))
                {
                    errors.Add($"plugin '{label}': imports {function.ModuleName}.{function.Name} twice with different types");
                }
                continue;
            }
            defined.Add((function.ModuleName, function.Name), function);
            bool wasi = function.ModuleName is "wasi_snapshot_preview1" or "wasi_unstable";
            var table = wasi ? WasiFunctions : function.ModuleName == "env" ? EnvFunctions : null;
            try
            {
                if (table is not null && table.TryGetValue(function.Name, out var definition)
                    && SameKinds(definition.Parameters, function.Parameters) && SameKinds(definition.Results, function.Results))
                {
                    if (definition.Body is { } body)
                    {
                        ImportBinding.Define(linker, function.ModuleName, function.Name, definition.Parameters, body);
                    }
                    else
                    {
                        linker.DefineFunction(function.ModuleName, function.Name, definition.Callback!, definition.Parameters, definition.Results);
                    }
                }
                else
                {
                    DefineStub(linker, function, wasi ? WasiErrno.NoSys : (int)WasmResult.Unimplemented);
                }
            }
            catch (Exception e) when (e is WasmtimeException or ArgumentException or NotSupportedException)
            {
                errors.Add($"plugin '{label}': cannot link import {function.ModuleName}.{function.Name}: {TrapMessage.OneLine(e.Message)}");
            }
        }
    }

    private static bool SameKinds(ValueKind[] expected, IReadOnlyList<ValueKind> declared)
    {
        if (expected.Length != declared.Count)
        {
            return false;
        }
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != declared[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>docs/proxy-wasm.md, 'Other imports': the imported kinds exactly; an i32 result answers UNIMPLEMENTED (NOSYS for WASI), others zero.</summary>
    private static void DefineStub(Linker linker, FunctionImport function, int status)
    {
        var results = function.Results.ToArray();
        string module = function.ModuleName;
        string name = function.Name;
        bool logged = false;
        linker.DefineFunction(module, name, (Caller caller, ReadOnlySpan<ValueBox> args, Span<ValueBox> res) =>
        {
            if (!logged && caller.GetData() is PluginVm vm)
            {
                logged = true;
                PluginLog.StubCalled(vm.Group.Logger, vm.Group.Name, module, name);
            }
            for (int i = 0; i < results.Length; i++)
            {
                res[i] = results[i] switch
                {
                    ValueKind.Int32 => status,
                    ValueKind.Int64 => 0L,
                    ValueKind.Float32 => 0f,
                    _ => 0d,
                };
            }
        }, function.Parameters, function.Results);
    }

    /// <summary>Parses a compact signature such as <c>"iiI"</c> (i = i32, I = i64, F = f64).</summary>
    private static ValueKind[] Kinds(string signature)
    {
        var kinds = new ValueKind[signature.Length];
        for (int i = 0; i < signature.Length; i++)
        {
            kinds[i] = signature[i] switch
            {
                'i' => ValueKind.Int32,
                'I' => ValueKind.Int64,
                'F' => ValueKind.Float64,
                _ => throw new ArgumentException(signature, nameof(signature)),
            };
        }
        return kinds;
    }

    private static void Add(Dictionary<string, Definition> table, string name, string parameters, ProxyImport import, bool restricted = true) =>
        table.Add(name, new Definition(Kinds(parameters), [ValueKind.Int32], (caller, args) =>
        {
            var vm = (PluginVm)caller.GetData()!;
            if (restricted)
            {
                vm.CheckUnrestricted(name);
            }
            vm.EnterImport();
            try
            {
                return (int)import(vm, caller, args);
            }
            catch (Exception e) when (e is not (CpuDeadlineExceededException or WasmtimeException))
            {
                // A host fault on guest input must not become the guest's trap, nor reach the worker.
                return (int)ImportFailed(vm, name, e);
            }
        }));

    private static void AddWasi(Dictionary<string, Definition> table, string name, string parameters, WasiImport import) =>
        table.Add(name, new Definition(Kinds(parameters), [ValueKind.Int32], (caller, args) =>
        {
            var vm = (PluginVm)caller.GetData()!;
            vm.EnterImport();
            try
            {
                return import(vm, caller, args);
            }
            catch (Exception e) when (e is not (CpuDeadlineExceededException or WasmtimeException))
            {
                ImportFailed(vm, name, e);
                return WasiErrno.Inval;
            }
        }));

    private static WasmResult ImportFailed(PluginVm vm, string import, Exception e)
    {
        Sandbox.SandboxLog.ImportFailed(vm.Group.Logger, vm.Group.Name, import, e.GetType().Name, PluginModule.FirstLine(e.Message));
        return WasmResult.InternalFailure;
    }

    private static void AddRaw(Dictionary<string, Definition> table, string name, string parameters, string results, Function.UntypedCallbackDelegate callback) =>
        table.Add(name, new Definition(Kinds(parameters), Kinds(results), null, callback));
}
