using System.Security.Cryptography;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Host;
using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// One <c>.wasm</c> file compiled once for the whole process, with the linker built for exactly the imports it
/// declares (docs/proxy-wasm.md, 'Loading and VMs' steps 1–3). Every VM of the module, on every worker, is instantiated from these two.
/// A reload whose file has the same bytes keeps the compiled module; each runtime generation using it holds it.
/// </summary>
internal sealed class PluginModule
{
    private static readonly string[] AbiMarkers =
    [
        "proxy_abi_version_0_1_0", "proxy_abi_version_0_2_0", "proxy_abi_version_0_2_1", "proxy_abi_version_0_2_100",
    ];

    private int _holders = 1;

    private PluginModule(string path, byte[] digest, Module module, Linker linker, AbiVersion abi, IReadOnlySet<string> exports)
    {
        Path = path;
        Digest = digest;
        Module = module;
        Linker = linker;
        Abi = abi;
        Exports = exports;
    }

    public string Path { get; }

    /// <summary>SHA-256 of the file's bytes: a reload recompiles only a module whose bytes changed.</summary>
    public byte[] Digest { get; }

    public Module Module { get; }

    public Linker Linker { get; }

    public AbiVersion Abi { get; }

    /// <summary>Exported function names by function index, to name the callback in a trap reason.</summary>
    public IReadOnlyDictionary<uint, string> ExportNames { get; private init; } = new Dictionary<uint, string>();

    /// <summary>Wasm pages (64 KiB) of linear memory the module declares it starts with.</summary>
    public long InitialMemoryPages { get; private init; }

    /// <summary>Names of the function exports, to know which callbacks exist without an instance.</summary>
    public IReadOnlySet<string> Exports { get; }

    /// <summary>Reads the bytes of <paramref name="path"/>; null with the problem added to <paramref name="errors"/> when it cannot.</summary>
    public static byte[]? Read(string path, string label, List<string> errors)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"plugin '{label}': cannot load module '{path}': {FirstLine(e.Message)}");
            return null;
        }
    }

    public static byte[] DigestOf(byte[] bytes) => SHA256.HashData(bytes);

    /// <summary>Compiles and links the module <paramref name="bytes"/> read from <paramref name="path"/>; every problem is added to <paramref name="errors"/> prefixed by <paramref name="label"/>.</summary>
    /// <remarks>With a <paramref name="cache"/>, compiled code is loaded from it when present and stored after compiling.</remarks>
    public static PluginModule? Compile(Engine engine, string path, byte[] bytes, byte[] digest, string label, List<string> errors, ModuleCache? cache = null)
    {
        string name = System.IO.Path.GetFileName(path);
        Module? module = cache?.TryLoad(engine, name, digest);
        if (module is null)
        {
            try
            {
                module = Module.FromBytes(engine, name, bytes);
            }
            catch (WasmtimeException e)
            {
                errors.Add($"plugin '{label}': cannot load module '{path}': {TrapMessage.OneLine(e.Message)}");
                return null;
            }
            cache?.Store(module, digest);
        }

        var exports = new HashSet<string>(StringComparer.Ordinal);
        AbiVersion? abi = null;
        foreach (var export in module.Exports)
        {
            if (export is not FunctionExport)
            {
                continue;
            }
            exports.Add(export.Name);
            if (abi is null)
            {
                int marker = Array.IndexOf(AbiMarkers, export.Name);
                if (marker >= 0)
                {
                    abi = (AbiVersion)marker;
                }
            }
        }

        int before = errors.Count;
        if (abi is null)
        {
            errors.Add($"plugin '{label}': missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_* export)");
        }
        long initialPages = -1;
        foreach (var export in module.Exports)
        {
            if (export is MemoryExport memory && export.Name == "memory")
            {
                initialPages = memory.Minimum;
            }
        }
        if (initialPages < 0)
        {
            errors.Add($"plugin '{label}': module does not export its linear memory as 'memory'");
        }
        if (!exports.Contains("proxy_on_memory_allocate") && !exports.Contains("malloc"))
        {
            errors.Add($"plugin '{label}': missing malloc (neither proxy_on_memory_allocate nor malloc is exported)");
        }
        bool importsSql = false;
        foreach (var import in module.Imports)
        {
            if (import.ModuleName == "env" && import.Name == "proxy_sql_call")
            {
                importsSql = true;
            }
        }
        if (importsSql && !exports.Contains("proxy_on_sql_call_response"))
        {
            errors.Add($"plugin '{label}': imports proxy_sql_call but does not export proxy_on_sql_call_response (docs/proxy-wasm.md, 'The SQL extension')");
        }

        var linker = new Linker(engine);
        HostFunctions.Link(linker, module, label, errors);
        if (errors.Count > before)
        {
            linker.Dispose();
            module.Dispose();
            return null;
        }
        return new PluginModule(path, digest, module, linker, abi!.Value, exports)
        {
            InitialMemoryPages = initialPages,
            ExportNames = ExportedFunctionNames.Read(bytes),
        };
    }

    /// <summary>One more runtime generation uses the module.</summary>
    public void Hold() => Interlocked.Increment(ref _holders);

    /// <summary>A generation is done with the module; the last one frees it.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            Linker.Dispose();
            Module.Dispose();
        }
    }

    internal static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n');
        return newline < 0 ? message : message[..newline].TrimEnd();
    }
}
