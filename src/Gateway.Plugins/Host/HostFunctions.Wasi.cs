using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Vm;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>
/// WASI preview1 as a plugin host needs it (docs/proxy-wasm.md, 'Other imports'), registered under both <c>wasi_snapshot_preview1</c> and
/// <c>wasi_unstable</c>: stdout/stderr go to the plugin's log, clocks and random work, files and sockets do not
/// exist, and nothing blocks the worker. Names not listed here get the generic stub (NOSYS).
/// </summary>
internal static partial class HostFunctions
{
    private const int MaxRandomBytes = 65536;

    private static Dictionary<string, Definition> BuildWasi()
    {
        var wasi = new Dictionary<string, Definition>(StringComparer.Ordinal);
        AddWasi(wasi, "fd_write", "iiii", FdWrite);
        AddWasi(wasi, "fd_read", "iiii", static (vm, c, a) => WasiErrno.NoSys);
        AddWasi(wasi, "fd_seek", "iIii", static (vm, c, a) => WasiErrno.BadF);
        AddWasi(wasi, "fd_close", "i", static (vm, c, a) => WasiErrno.Success);
        AddWasi(wasi, "fd_fdstat_get", "ii", FdStatGet);
        AddWasi(wasi, "fd_fdstat_set_flags", "ii", static (vm, c, a) => WasiErrno.NoSys);
        // No pre-opened directories: this is how wasi-libc learns there is no file system.
        AddWasi(wasi, "fd_prestat_get", "ii", static (vm, c, a) => WasiErrno.BadF);
        AddWasi(wasi, "fd_prestat_dir_name", "iii", static (vm, c, a) => WasiErrno.BadF);
        AddWasi(wasi, "path_open", "iiiiiIIii", static (vm, c, a) => WasiErrno.NoEnt);
        AddWasi(wasi, "fd_filestat_get", "ii", static (vm, c, a) => WasiErrno.BadF);
        AddWasi(wasi, "path_filestat_get", "iiiii", static (vm, c, a) => WasiErrno.NotSup);
        AddWasi(wasi, "environ_sizes_get", "ii", EnvironSizesGet);
        AddWasi(wasi, "environ_get", "ii", EnvironGet);
        AddWasi(wasi, "args_sizes_get", "ii", static (vm, c, a) =>
        {
            var memory = vm.GetMemory(c);
            return GuestMemory.TryWriteUInt32(memory, a[0].AsInt32(), 0) && GuestMemory.TryWriteUInt32(memory, a[1].AsInt32(), 0)
                ? WasiErrno.Success : WasiErrno.Fault;
        });
        AddWasi(wasi, "args_get", "ii", static (vm, c, a) => WasiErrno.Success);
        AddWasi(wasi, "clock_time_get", "iIi", ClockTimeGet);
        AddWasi(wasi, "clock_res_get", "ii", static (vm, c, a) =>
            a[0].AsInt32() is 0 or 1
                ? GuestMemory.TryWriteUInt64(vm.GetMemory(c), a[1].AsInt32(), 1) ? WasiErrno.Success : WasiErrno.Fault
                : WasiErrno.NotSup);
        AddWasi(wasi, "random_get", "ii", RandomGet);
        AddWasi(wasi, "sched_yield", "", static (vm, c, a) => WasiErrno.Success);
        // Never blocks: the Go runtime sleeps through poll_oneoff, which would stall the worker (docs/proxy-wasm.md, 'Other imports').
        AddWasi(wasi, "poll_oneoff", "iiii", static (vm, c, a) =>
            GuestMemory.TryWriteUInt32(vm.GetMemory(c), a[3].AsInt32(), 0) ? WasiErrno.Success : WasiErrno.Fault);
        AddRaw(wasi, "proc_exit", "i", "", static (c, a, r) =>
        {
            var vm = (PluginVm)c.GetData()!;
            vm.ExitCode = a[0].AsInt32();
            throw new InvalidOperationException($"proc_exit({vm.ExitCode})");
        });
        return wasi;
    }

    /// <summary>IOV_MAX of wasi-libc: more vectors in one call is EINVAL.</summary>
    private const int MaxIoVectors = 1024;

    /// <summary>fd 1 → info, fd 2 → error, buffered per VM and logged a line at a time; other descriptors do not exist.</summary>
    private static int FdWrite(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        int fd = args[0].AsInt32();
        if (fd is not (1 or 2))
        {
            return WasiErrno.BadF;
        }
        var memory = vm.GetMemory(caller);
        int count = args[2].AsInt32();
        if ((uint)count > MaxIoVectors)
        {
            return WasiErrno.Inval;
        }
        if (!GuestMemory.TryGetSpan(memory, args[1].AsInt32(), count * 8, out var vectors))
        {
            return WasiErrno.Fault;
        }
        // iovecs may all name the same block: what one call takes is bounded by limits.hostCallBytes, and the rest
        // is reported unwritten (a short write, which libc retries, each retry on the callback's budget).
        int cap = vm.Group.Limits.HostCallBytes;
        var plugin = vm.ActingPlugin.GuestLog;
        uint written = 0;
        for (int i = 0; i < count; i++)
        {
            int pointer = BinaryPrimitives.ReadInt32LittleEndian(vectors[(i * 8)..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(vectors[(i * 8 + 4)..]);
            if (!GuestMemory.TryGetSpan(memory, pointer, length, out var chunk))
            {
                return WasiErrno.Fault;
            }
            if (written + (uint)length > (uint)cap)
            {
                chunk = chunk[..(int)((uint)cap - written)];
                vm.ActingPlugin.Refuse(Sandbox.HostLimit.HostCallBytes, $"fd_write of more than {cap} bytes in one call shortened");
                vm.Output.Write(plugin, fd, chunk);
                written += (uint)chunk.Length;
                break;
            }
            vm.Output.Write(plugin, fd, chunk);
            written += (uint)length;
        }
        return GuestMemory.TryWriteUInt32(memory, args[3].AsInt32(), written) ? WasiErrno.Success : WasiErrno.Fault;
    }

    /// <summary>stdout and stderr are character devices with the write right; nothing else is open.</summary>
    private static int FdStatGet(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        if (args[0].AsInt32() is not (1 or 2))
        {
            return WasiErrno.BadF;
        }
        if (!GuestMemory.TryGetSpan(vm.GetMemory(caller), args[1].AsInt32(), 24, out var stat))
        {
            return WasiErrno.Fault;
        }
        stat.Clear();
        stat[0] = 2; // filetype: character_device
        BinaryPrimitives.WriteUInt64LittleEndian(stat[8..], 1UL << 6); // rights_base: fd_write
        return WasiErrno.Success;
    }

    private static int EnvironSizesGet(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        uint count = 0;
        uint size = 0;
        foreach (var (name, value) in vm.Group.Environment)
        {
            count++;
            size += (uint)Encoding.UTF8.GetByteCount(name) + 1 + (uint)Encoding.UTF8.GetByteCount(value) + 1;
        }
        var memory = vm.GetMemory(caller);
        return GuestMemory.TryWriteUInt32(memory, args[0].AsInt32(), count) && GuestMemory.TryWriteUInt32(memory, args[1].AsInt32(), size)
            ? WasiErrno.Success : WasiErrno.Fault;
    }

    /// <summary>Only the variables configured for the plugin; never the gateway's own environment (docs/proxy-wasm.md, 'Other imports').</summary>
    private static int EnvironGet(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        int pointers = args[0].AsInt32();
        int buffer = args[1].AsInt32();
        foreach (var (name, value) in vm.Group.Environment)
        {
            byte[] entry = Encoding.UTF8.GetBytes($"{name}={value}\0");
            if (!GuestMemory.TryWriteUInt32(memory, pointers, (uint)buffer) || !GuestMemory.TryGetSpan(memory, buffer, entry.Length, out var destination))
            {
                return WasiErrno.Fault;
            }
            entry.CopyTo(destination);
            pointers += 4;
            buffer += entry.Length;
        }
        return WasiErrno.Success;
    }

    private static int ClockTimeGet(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        ulong now = args[0].AsInt32() switch
        {
            0 => UnixNanoseconds(),
            1 => (ulong)MonotonicNanoseconds(),
            _ => ulong.MaxValue,
        };
        if (now == ulong.MaxValue)
        {
            return WasiErrno.NotSup;
        }
        return GuestMemory.TryWriteUInt64(vm.GetMemory(caller), args[2].AsInt32(), now) ? WasiErrno.Success : WasiErrno.Fault;
    }

    private static int RandomGet(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        int length = args[1].AsInt32();
        if ((uint)length > MaxRandomBytes)
        {
            return WasiErrno.Inval;
        }
        if (!GuestMemory.TryGetSpan(vm.GetMemory(caller), args[0].AsInt32(), length, out var destination))
        {
            return WasiErrno.Fault;
        }
        RandomNumberGenerator.Fill(destination);
        return WasiErrno.Success;
    }
}
