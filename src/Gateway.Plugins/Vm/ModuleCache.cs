using Gateway.Plugins.Logging;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// Compiled machine code of plugin modules, kept on disk so a restart deserializes instead of compiling (a Go
/// plugin of 3 MB costs about a second of Cranelift per start). An entry is named by the module's SHA-256 and
/// the engine's version and settings; Wasmtime also refuses an artifact from an incompatible engine, which is
/// then compiled and rewritten. The directory must be writable by the gateway alone: Wasmtime trusts what it
/// deserializes. Any failure to read or write only costs a compile.
/// </summary>
internal sealed class ModuleCache(string directory, ILogger logger)
{
    /// <summary>Changes whenever <see cref="PluginEngine"/>'s Wasmtime settings or the Wasmtime version change.</summary>
    private static readonly string EngineTag = $"wasmtime{typeof(Engine).Assembly.GetName().Version}-epoch";

    private int _writeFailureLogged;

    public string Directory { get; } = directory;

    /// <summary>The cached compilation of the module with <paramref name="digest"/>, or null when there is none usable.</summary>
    public Module? TryLoad(Engine engine, string name, byte[] digest)
    {
        string path = PathOf(digest);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return Module.DeserializeFile(engine, name, path);
        }
        catch (Exception e) when (e is WasmtimeException or IOException or UnauthorizedAccessException)
        {
            PluginLog.ModuleCacheEntryUnusable(logger, path, TrapMessage.OneLine(e.Message));
            TryDelete(path);
            return null;
        }
    }

    /// <summary>Writes the compiled <paramref name="module"/> atomically (temporary file, then rename).</summary>
    public void Store(Module module, byte[] digest)
    {
        string path = PathOf(digest);
        string temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllBytes(temporary, module.Serialize());
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or WasmtimeException)
        {
            TryDelete(temporary);
            if (Interlocked.Exchange(ref _writeFailureLogged, 1) == 0)
            {
                PluginLog.ModuleCacheUnwritable(logger, Directory, e.Message);
            }
        }
    }

    private string PathOf(byte[] digest) => Path.Combine(Directory, $"{Convert.ToHexStringLower(digest)}-{EngineTag}.cwasm");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next write to replace.
        }
    }
}
