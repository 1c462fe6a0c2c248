using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Buffers: the bodies of the stream, a callout's response body, the VM and plugin configuration, and the Redis and SQL replies, read (and the bodies written) through one set of imports.</summary>
internal static partial class HostFunctions
{
    private static void AddBuffers(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_get_buffer_bytes", "iiiii", GetBufferBytes);
        Add(env, "proxy_set_buffer_bytes", "iiiii", SetBufferBytes);
        Add(env, "proxy_get_buffer_status", "iii", GetBufferStatus);
        Add(env, "proxy_get_configuration", "ii", (vm, c, a) =>
        {
            var plugin = vm.ConfiguringPlugin;
            byte[] data = plugin is null ? [] : vm.VmStarting ? vm.Group.VmConfiguration : plugin.Configuration;
            return GuestMemory.Return(vm, c, data, a[0].AsInt32(), a[1].AsInt32());
        });
    }

    private static WasmResult FindBuffer(PluginVm vm, int type, out ReadOnlySpan<byte> bytes, out BodyBuffer? writable)
    {
        bytes = default;
        writable = null;
        switch ((BufferType)type)
        {
            case BufferType.HttpRequestBody or BufferType.HttpResponseBody:
                if (vm.Effective is not StreamContext stream)
                {
                    return WasmResult.NotFound;
                }
                writable = type == (int)BufferType.HttpRequestBody ? stream.RequestBody : stream.ResponseBody;
                bytes = writable.Span;
                return WasmResult.Ok;
            case BufferType.HttpCallResponseBody:
                if (vm.HttpCallResponse is not { } response)
                {
                    return WasmResult.NotFound;
                }
                bytes = response.Succeeded ? response.Body : [];
                return WasmResult.Ok;
            case BufferType.VmConfiguration:
                bytes = vm.Group.VmConfiguration;
                return WasmResult.Ok;
            case BufferType.PluginConfiguration:
                if (vm.ConfiguringPlugin is not { } plugin)
                {
                    return WasmResult.NotFound;
                }
                bytes = plugin.Configuration;
                return WasmResult.Ok;
            case BufferType.RedisCallResponse:
                if (vm.RedisReply is not { } reply)
                {
                    return WasmResult.NotFound;
                }
                bytes = reply;
                return WasmResult.Ok;
            case BufferType.SqlCallResponse:
                if (vm.SqlBody is not { } body)
                {
                    return WasmResult.NotFound;
                }
                bytes = body;
                return WasmResult.Ok;
            case BufferType.DownstreamData or BufferType.UpstreamData or BufferType.GrpcReceiveBuffer or BufferType.CallData:
                // TCP data, gRPC messages and foreign-function arguments never exist in this HTTP gateway.
                return WasmResult.NotFound;
            default:
                return WasmResult.BadArgument;
        }
    }

    private static WasmResult GetBufferBytes(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var status = FindBuffer(vm, args[0].AsInt32(), out var bytes, out _);
        if (status != WasmResult.Ok)
        {
            return status;
        }
        // start + max_size in 64 bits and clamped: plugins pass max_size = 0xFFFFFFFF (docs/proxy-wasm.md, 'Buffers').
        ulong start = (uint)args[1].AsInt32();
        ulong end = Math.Min(start + (uint)args[2].AsInt32(), (ulong)bytes.Length);
        if (start >= end)
        {
            // Envoy writes nothing at all for an empty result, unlike every other import; the AssemblyScript SDK
            // passes the configuration size as the size pointer and would free address 0 if we wrote 0/0.
            // Pointers outside memory are still refused, as for every other import.
            var memory = vm.GetMemory(caller);
            return GuestMemory.TryGetSpan(memory, args[3].AsInt32(), 4, out _) && GuestMemory.TryGetSpan(memory, args[4].AsInt32(), 4, out _)
                ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
        }
        var slice = bytes[(int)start..(int)end];
        return GuestMemory.Return(vm, caller, slice, args[3].AsInt32(), args[4].AsInt32());
    }

    private static WasmResult SetBufferBytes(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        int type = args[0].AsInt32();
        var status = FindBuffer(vm, type, out _, out var writable);
        if (status != WasmResult.Ok)
        {
            return status;
        }
        if (writable is null)
        {
            return WasmResult.BadArgument;
        }
        if (!GuestMemory.TryGetSpan(vm.GetMemory(caller), args[3].AsInt32(), args[4].AsInt32(), out var data))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        uint start = (uint)args[1].AsInt32();
        uint size = (uint)args[2].AsInt32();
        long limit = vm.Runtime.Services.MessageLimits.MaxBodyBytes;
        if (writable.LengthAfterSplice(start, size, data.Length) > Math.Max(limit, writable.Length))
        {
            return Refuse(vm, HostLimit.BodySize, $"body edit past limits.maxBodyBytes ({limit})");
        }
        writable.Splice(start, size, data);
        return WasmResult.Ok;
    }

    private static WasmResult GetBufferStatus(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var status = FindBuffer(vm, args[0].AsInt32(), out var bytes, out _);
        if (status != WasmResult.Ok)
        {
            return status;
        }
        var memory = vm.GetMemory(caller);
        return GuestMemory.TryWriteUInt32(memory, args[1].AsInt32(), (uint)bytes.Length) && GuestMemory.TryWriteUInt32(memory, args[2].AsInt32(), 0)
            ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    }
}
