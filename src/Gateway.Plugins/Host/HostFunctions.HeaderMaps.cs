using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Header maps: the request and response headers and trailers of the stream, and a callout's response headers, read and written as maps of pairs.</summary>
internal static partial class HostFunctions
{
    private static void AddHeaderMaps(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_get_header_map_pairs", "iii", GetHeaderMapPairs);
        Add(env, "proxy_set_header_map_pairs", "iii", SetHeaderMapPairs);
        Add(env, "proxy_get_header_map_value", "iiiii", GetHeaderMapValue);
        Add(env, "proxy_add_header_map_value", "iiiii", (vm, c, a) => WriteHeader(vm, c, a, HeaderWrite.Add));
        Add(env, "proxy_replace_header_map_value", "iiiii", (vm, c, a) => WriteHeader(vm, c, a, HeaderWrite.Replace));
        Add(env, "proxy_remove_header_map_value", "iii", (vm, c, a) => WriteHeader(vm, c, a, HeaderWrite.Remove));
        Add(env, "proxy_get_header_map_size", "ii", (vm, c, a) =>
        {
            var status = FindMap(vm, a[0].AsInt32(), out var map);
            if (status != WasmResult.Ok)
            {
                return status;
            }
            int size = map.ByteSize(Pairs);
            return GuestMemory.TryWriteUInt32(vm.GetMemory(c), a[1].AsInt32(), (uint)size) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
        });
    }

    private static readonly HeaderCollection EmptyFields = new();

    /// <summary>The map <paramref name="type"/> as the effective context sees it (docs/proxy-wasm.md, 'Header maps' rules).</summary>
    private static WasmResult FindMap(PluginVm vm, int type, out HeaderMap map)
    {
        map = default;
        if ((uint)type > (uint)MapType.HttpCallResponseTrailers)
        {
            return WasmResult.BadArgument;
        }
        bool readOnly = vm.Phase == VmPhase.Log;
        switch ((MapType)type)
        {
            case MapType.HttpCallResponseHeaders:
                if (vm.HttpCallResponse is not { } call)
                {
                    return WasmResult.NotFound;
                }
                map = call.Succeeded && call.Response is not null ? new HeaderMap(call.Response, true) : new HeaderMap(EmptyFields, true);
                return WasmResult.Ok;
            case MapType.HttpCallResponseTrailers:
                if (vm.HttpCallResponse is null)
                {
                    return WasmResult.NotFound;
                }
                map = new HeaderMap(EmptyFields, true);
                return WasmResult.Ok;
            case MapType.GrpcReceiveInitialMetadata or MapType.GrpcReceiveTrailingMetadata:
                return WasmResult.NotFound;
        }
        if (vm.Effective is not StreamContext context)
        {
            return WasmResult.BadArgument;
        }
        var stream = context.Stream;
        switch ((MapType)type)
        {
            case MapType.HttpRequestHeaders when stream.Request is not null:
                map = new HeaderMap(stream.Request, readOnly);
                return WasmResult.Ok;
            case MapType.HttpRequestTrailers when stream.RequestTrailers is not null:
                map = new HeaderMap(stream.RequestTrailers, readOnly);
                return WasmResult.Ok;
            case MapType.HttpResponseHeaders when stream.Response is not null:
                map = new HeaderMap(stream.Response, readOnly);
                return WasmResult.Ok;
            case MapType.HttpResponseTrailers when stream.ResponseTrailers is not null:
                map = new HeaderMap(stream.ResponseTrailers, readOnly);
                return WasmResult.Ok;
            default:
                return WasmResult.NotFound;
        }
    }

    private static WasmResult GetHeaderMapPairs(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var status = FindMap(vm, args[0].AsInt32(), out var map);
        if (status == WasmResult.NotFound)
        {
            // A map that does not exist (yet) reads as empty: RS accepts only OK here (docs/proxy-wasm.md, 'Other imports').
            return GuestMemory.Return(vm, caller, [], args[1].AsInt32(), args[2].AsInt32());
        }
        if (status != WasmResult.Ok)
        {
            return status;
        }
        var pairs = Pairs;
        map.CopyTo(pairs);
        if (pairs.Count == 0)
        {
            return GuestMemory.Return(vm, caller, [], args[1].AsInt32(), args[2].AsInt32());
        }
        int size = HeaderPairs.SerializedSize(pairs);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            HeaderPairs.Write(pairs, buffer);
            return GuestMemory.Return(vm, caller, buffer.AsSpan(0, size), args[1].AsInt32(), args[2].AsInt32());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static WasmResult SetHeaderMapPairs(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var status = FindMap(vm, args[0].AsInt32(), out var map);
        if (status != WasmResult.Ok)
        {
            return status == WasmResult.NotFound ? WasmResult.BadArgument : status;
        }
        if (map.ReadOnly)
        {
            return WasmResult.BadArgument;
        }
        if (!GuestMemory.TryGetSpan(vm.GetMemory(caller), args[1].AsInt32(), args[2].AsInt32(), out var bytes))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        var pairs = Pairs;
        if (!HeaderPairs.TryParse(bytes, pairs))
        {
            // Envoy would clear every header on a malformed map; refusing it is safer (docs/proxy-wasm.md, 'Header maps' POLICY).
            return WasmResult.BadArgument;
        }
        var verdict = map.ReplaceAll(pairs, vm.Runtime.Services.MessageLimits);
        if (verdict != HeaderVerdict.Write)
        {
            return HeaderResult(vm, verdict, "(header map)");
        }
        InvalidateRouteIfRequest(vm, args[0].AsInt32());
        return WasmResult.Ok;
    }

    private static WasmResult GetHeaderMapValue(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadFieldName(memory, args[1].AsInt32(), args[2].AsInt32(), out string key))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        var status = FindMap(vm, args[0].AsInt32(), out var map);
        string? value = status == WasmResult.Ok ? map.Get(key) : null;
        if (status == WasmResult.BadArgument)
        {
            return status;
        }
        if (value is null)
        {
            // 0.1.0 reports a missing header as an empty value (docs/proxy-wasm.md, 'Versions').
            return vm.Abi == AbiVersion.V0_1_0
                ? GuestMemory.Return(vm, caller, [], args[3].AsInt32(), args[4].AsInt32())
                : WasmResult.NotFound;
        }
        return ReturnLatin1(vm, caller, value, args[3].AsInt32(), args[4].AsInt32());
    }

    private static WasmResult ReturnLatin1(PluginVm vm, Caller caller, string value, int dataPointer, int sizePointer)
    {
        if (value.Length <= 512)
        {
            Span<byte> small = stackalloc byte[value.Length];
            Encoding.Latin1.GetBytes(value, small);
            return GuestMemory.Return(vm, caller, small, dataPointer, sizePointer);
        }
        return GuestMemory.Return(vm, caller, Encoding.Latin1.GetBytes(value), dataPointer, sizePointer);
    }

    private enum HeaderWrite
    {
        Add,
        Replace,
        Remove,
    }

    private static WasmResult WriteHeader(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args, HeaderWrite write)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadFieldName(memory, args[1].AsInt32(), args[2].AsInt32(), out string key))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        string value = "";
        if (write != HeaderWrite.Remove && !GuestMemory.TryReadLatin1(memory, args[3].AsInt32(), args[4].AsInt32(), out value))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        var status = FindMap(vm, args[0].AsInt32(), out var map);
        if (status != WasmResult.Ok || map.ReadOnly)
        {
            return WasmResult.BadArgument;
        }
        if (key.Length == 0)
        {
            return WasmResult.BadArgument;
        }
        var limits = vm.Runtime.Services.MessageLimits;
        var verdict = write switch
        {
            HeaderWrite.Add => map.Add(key, value, limits),
            HeaderWrite.Replace => map.Replace(key, value, limits),
            _ => HeaderVerdict.Write,
        };
        if (write == HeaderWrite.Remove)
        {
            map.Remove(key);
        }
        if (verdict != HeaderVerdict.Write)
        {
            return HeaderResult(vm, verdict, key);
        }
        InvalidateRouteIfRequest(vm, args[0].AsInt32());
        return WasmResult.Ok;
    }

    /// <summary>Any change to the request headers invalidates the route (docs/proxy-wasm.md, 'Header maps').</summary>
    private static void InvalidateRouteIfRequest(PluginVm vm, int mapType)
    {
        if (mapType == (int)MapType.HttpRequestHeaders && vm.Effective is StreamContext context)
        {
            context.Stream.Route.OnRequestHeadersChanged();
        }
    }
}
