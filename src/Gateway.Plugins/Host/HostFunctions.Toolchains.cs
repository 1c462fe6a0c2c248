using System.Buffers.Binary;
using System.Text;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Vm;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Imports that are not proxy-wasm but that the C++ (Emscripten) and AssemblyScript toolchains emit into every module.</summary>
internal static partial class HostFunctions
{
    private static void AddToolchains(Dictionary<string, Definition> env)
    {
        AddRaw(env, "emscripten_notify_memory_growth", "i", "", static (c, a, r) => { });
        AddRaw(env, "pthread_equal", "ii", "i", static (c, a, r) => r[0] = a[0].AsInt32() == a[1].AsInt32() ? 1 : 0);
        AddRaw(env, "abort", "iiii", "", AssemblyScriptAbort);
        AddRaw(env, "trace", "iiFFFFF", "", static (c, a, r) =>
        {
            var vm = (PluginVm)c.GetData()!;
            string message = ReadAssemblyScriptString(vm.GetMemory(c), a[0].AsInt32());
            vm.ActingPlugin.GuestLog.Write(LogLevel.Information, "trace: " + message);
        });
        AddRaw(env, "seed", "", "F", static (c, a, r) => r[0] = (double)Random.Shared.NextInt64());
    }

    private static void AssemblyScriptAbort(Caller caller, ReadOnlySpan<ValueBox> args, Span<ValueBox> results)
    {
        var vm = (PluginVm)caller.GetData()!;
        var memory = vm.GetMemory(caller);
        string message = ReadAssemblyScriptString(memory, args[0].AsInt32());
        string file = ReadAssemblyScriptString(memory, args[1].AsInt32());
        vm.ActingPlugin.GuestLog.Write(LogLevel.Error, $"abort: {message} at {file}:{args[2].AsInt32()}:{args[3].AsInt32()}");
        throw new InvalidOperationException($"abort: {message}");
    }

    /// <summary>AssemblyScript strings are UTF-16LE with their byte length in the 4 bytes before the pointer.</summary>
    private static string ReadAssemblyScriptString(LinearMemory memory, int pointer)
    {
        if (pointer < 4 || !GuestMemory.TryGetSpan(memory, pointer - 4, 4, out var header))
        {
            return "";
        }
        int length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header), 4096);
        return GuestMemory.TryGetSpan(memory, pointer, length & ~1, out var text) ? Encoding.Unicode.GetString(text) : "";
    }
}
