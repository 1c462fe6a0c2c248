using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Logging;
using Gateway.Plugins.Metrics;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Shared;
using Gateway.Plugins.Vm;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>The <c>env</c> imports of docs/proxy-wasm.md, 'Other imports': logging, buffers, header maps, stream control, callouts, shared state.</summary>
internal static partial class HostFunctions
{
    [ThreadStatic]
    private static List<KeyValuePair<string, string>>? t_pairs;

    private static List<KeyValuePair<string, string>> Pairs => t_pairs ??= [];

    private static Dictionary<string, Definition> BuildEnv()
    {
        var env = new Dictionary<string, Definition>(StringComparer.Ordinal);

        // docs/proxy-wasm.md, 'Other imports' Logging, time, timers.
        Add(env, "proxy_log", "iii", ProxyLog, restricted: false);
        Add(env, "proxy_get_log_level", "i", (vm, c, a) =>
            GuestMemory.TryWriteUInt32(vm.GetMemory(c), a[0].AsInt32(), (uint)LogLevelOf(vm)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess);
        Add(env, "proxy_get_current_time_nanoseconds", "i", (vm, c, a) =>
            GuestMemory.TryWriteUInt64(vm.GetMemory(c), a[0].AsInt32(), UnixNanoseconds()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess);
        Add(env, "proxy_set_tick_period_milliseconds", "i", SetTickPeriod);

        // docs/proxy-wasm.md, 'Buffers' Buffers.
        Add(env, "proxy_get_buffer_bytes", "iiiii", GetBufferBytes);
        Add(env, "proxy_set_buffer_bytes", "iiiii", SetBufferBytes);
        Add(env, "proxy_get_buffer_status", "iii", GetBufferStatus);
        Add(env, "proxy_get_configuration", "ii", (vm, c, a) =>
        {
            var plugin = vm.ConfiguringPlugin;
            byte[] data = plugin is null ? [] : vm.VmStarting ? vm.Group.VmConfiguration : plugin.Configuration;
            return GuestMemory.Return(vm, c, data, a[0].AsInt32(), a[1].AsInt32());
        });

        // docs/proxy-wasm.md, 'Header maps' Header maps.
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

        // docs/proxy-wasm.md, 'Stream control' Stream control.
        Add(env, "proxy_continue_stream", "i", (vm, c, a) => ContinueStream(vm, a[0].AsInt32()));
        Add(env, "proxy_close_stream", "i", CloseStream);
        Add(env, "proxy_continue_request", "", (vm, c, a) => ContinueStream(vm, (int)StreamType.HttpRequest));
        Add(env, "proxy_continue_response", "", (vm, c, a) => ContinueStream(vm, (int)StreamType.HttpResponse));
        Add(env, "proxy_clear_route_cache", "", (vm, c, a) =>
        {
            (vm.Effective as StreamContext)?.Stream.ClearRoute();
            return WasmResult.Ok;
        });
        Add(env, "proxy_send_local_response", "iiiiiiii", SendLocalResponse);

        // docs/proxy-wasm.md, 'Calls that wait' HTTP callouts; docs/proxy-wasm.md, 'Calls that wait' gRPC is not offered: 10 and 1 are statuses every SDK tolerates (docs/proxy-wasm.md, 'Other imports').
        Add(env, "proxy_http_call", "iiiiiiiiii", HttpCall);
        Add(env, "proxy_get_status", "iii", GetStatus);
        Add(env, "proxy_grpc_call", "iiiiiiiiiiii", (vm, c, a) => WasmResult.InternalFailure);
        Add(env, "proxy_grpc_stream", "iiiiiiiii", (vm, c, a) => WasmResult.InternalFailure);
        Add(env, "proxy_grpc_send", "iiii", (vm, c, a) => WasmResult.NotFound);
        Add(env, "proxy_grpc_cancel", "i", (vm, c, a) => WasmResult.NotFound);
        Add(env, "proxy_grpc_close", "i", (vm, c, a) => WasmResult.NotFound);

        // docs/proxy-wasm.md, 'Other imports' Metrics.
        Add(env, "proxy_define_metric", "iiii", DefineMetric);
        Add(env, "proxy_increment_metric", "iI", (vm, c, a) => UpdateMetric(vm, a[0].AsInt32(), a[1].AsInt64(), increment: true));
        Add(env, "proxy_record_metric", "iI", (vm, c, a) => UpdateMetric(vm, a[0].AsInt32(), a[1].AsInt64(), increment: false));
        Add(env, "proxy_get_metric", "ii", GetMetric);

        // docs/proxy-wasm.md, 'Other imports' Shared data; docs/proxy-wasm.md, 'Other imports' shared queues.
        Add(env, "proxy_get_shared_data", "iiiii", GetSharedData);
        Add(env, "proxy_set_shared_data", "iiiii", SetSharedData);
        Add(env, "proxy_register_shared_queue", "iii", RegisterSharedQueue);
        Add(env, "proxy_resolve_shared_queue", "iiiii", ResolveSharedQueue);
        Add(env, "proxy_enqueue_shared_queue", "iii", EnqueueSharedQueue);
        Add(env, "proxy_dequeue_shared_queue", "iii", DequeueSharedQueue);

        // docs/proxy-wasm.md, 'Other imports' Properties; docs/proxy-wasm.md, 'Contexts and callbacks' context control; docs/proxy-wasm.md, 'Other imports' foreign functions.
        Add(env, "proxy_get_property", "iiii", GetProperty);
        Add(env, "proxy_set_property", "iiii", SetProperty);
        Add(env, "proxy_set_effective_context", "i", (vm, c, a) =>
        {
            if (!vm.TryGetContext(a[0].AsInt32(), out var context) || context!.Deleted)
            {
                return WasmResult.BadArgument;
            }
            vm.Effective = context;
            return WasmResult.Ok;
        });
        Add(env, "proxy_done", "", (vm, c, a) =>
        {
            if (vm.Effective is not RootContext { AwaitingDone: true } root)
            {
                return WasmResult.NotFound;
            }
            vm.FinishRoot(root);
            return WasmResult.Ok;
        });
        Add(env, "proxy_call_foreign_function", "iiiiii", CallForeignFunction);

        // docs/proxy-wasm.md, 'Other imports' Higress extras, docs/proxy-wasm.md, 'Calls that wait' Redis, docs/proxy-wasm.md, 'The SQL extension' SQL.
        Add(env, "proxy_redis_init", "iiiiiii", RedisInit);
        Add(env, "proxy_redis_call", "iiiii", RedisCall);
        Add(env, "proxy_sql_call", "iiiiiiii", SqlCall);
        Add(env, "proxy_inject_encoded_data_to_filter_chain", "iii", (vm, c, a) => WasmResult.Unimplemented);
        Add(env, "proxy_get_upstream_hosts", "ii", (vm, c, a) => GuestMemory.Return(vm, c, [], a[0].AsInt32(), a[1].AsInt32()));
        Add(env, "proxy_set_upstream_override_host", "ii", (vm, c, a) => WasmResult.Unimplemented);

        // docs/proxy-wasm.md, 'Other imports' Non-proxy imports of the C++ and AssemblyScript toolchains.
        AddRaw(env, "emscripten_notify_memory_growth", "i", "", static (c, a, r) => { });
        AddRaw(env, "pthread_equal", "ii", "i", static (c, a, r) => r[0] = a[0].AsInt32() == a[1].AsInt32() ? 1 : 0);
        AddRaw(env, "abort", "iiii", "", AssemblyScriptAbort);
        AddRaw(env, "trace", "iiFFFFF", "", static (c, a, r) =>
        {
            var vm = (PluginVm)c.GetData()!;
            string message = ReadAssemblyScriptString(vm.GetMemory(c), a[0].AsInt32());
            (vm.Effective?.Plugin ?? vm.Group.Plugins[0]).GuestLog.Write(LogLevel.Information, "trace: " + message);
        });
        AddRaw(env, "seed", "", "F", static (c, a, r) => r[0] = (double)Random.Shared.NextInt64());
        return env;
    }

    // ---- docs/proxy-wasm.md, 'Other imports'

    private static WasmResult ProxyLog(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        int level = args[0].AsInt32();
        if ((uint)level > 5)
        {
            return WasmResult.BadArgument;
        }
        var plugin = vm.Effective?.Plugin ?? vm.Group.Plugins[0];
        var logLevel = (LogLevel)level;
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryGetSpan(memory, args[1].AsInt32(), args[2].AsInt32(), out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (plugin.GuestLog.IsEnabled(logLevel))
        {
            // Only the part a record can keep is decoded: a huge message must not cost a huge string.
            int length = Math.Min(args[2].AsInt32(), Logging.GuestLog.MaxMessageChars);
            GuestMemory.TryReadUtf8(memory, args[1].AsInt32(), length, out string message);
            plugin.GuestLog.Write(logLevel, message, args[2].AsInt32());
        }
        return WasmResult.Ok;
    }

    /// <summary>The lowest level the plugin's logger emits, in proxy-wasm numbering (docs/proxy-wasm.md, 'Other imports' matches <see cref="LogLevel"/> 0–5).</summary>
    private static int LogLevelOf(PluginVm vm)
    {
        var logger = (vm.Effective?.Plugin ?? vm.Group.Plugins[0]).Logger;
        for (int level = 0; level < 5; level++)
        {
            if (logger.IsEnabled((LogLevel)level))
            {
                return level;
            }
        }
        return 5;
    }

    private static ulong UnixNanoseconds() => (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    private static WasmResult SetTickPeriod(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        if (vm.Effective is not { } context)
        {
            return WasmResult.BadArgument;
        }
        var root = context.Root;
        root.Tick?.Dispose();
        root.Tick = null;
        int period = args[0].AsInt32();
        if (period > 0)
        {
            root.Tick = new TickTimer(root, period);
        }
        return WasmResult.Ok;
    }

    // ---- docs/proxy-wasm.md, 'Buffers'

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

    private static WasmResult GetBufferBytes(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
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

    private static WasmResult SetBufferBytes(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
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

    private static WasmResult GetBufferStatus(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
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

    // ---- docs/proxy-wasm.md, 'Header maps'

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

    private static WasmResult GetHeaderMapPairs(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
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

    private static WasmResult SetHeaderMapPairs(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
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

    private static WasmResult GetHeaderMapValue(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadLatin1(memory, args[1].AsInt32(), args[2].AsInt32(), out string key))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        var status = FindMap(vm, args[0].AsInt32(), out var map);
        string? value = status == WasmResult.Ok ? map.Get(key.ToLowerInvariant()) : null;
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

    private static WasmResult WriteHeader(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args, HeaderWrite write)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadLatin1(memory, args[1].AsInt32(), args[2].AsInt32(), out string key))
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
        key = key.ToLowerInvariant();
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
            context.Stream.OnRequestHeadersChanged();
        }
    }

    // ---- docs/proxy-wasm.md, 'Stream control'

    private static WasmResult ContinueStream(PluginVm vm, int type)
    {
        if ((uint)type > (uint)StreamType.Upstream)
        {
            return WasmResult.BadArgument;
        }
        if (vm.Effective is StreamContext stream && type <= (int)StreamType.HttpResponse)
        {
            if (type == (int)StreamType.HttpRequest)
            {
                stream.ContinueRequest = true;
            }
            else
            {
                stream.ContinueResponse = true;
            }
            vm.Touch(stream);
        }
        return WasmResult.Ok;
    }

    private static WasmResult CloseStream(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        if ((uint)args[0].AsInt32() > (uint)StreamType.Upstream)
        {
            return WasmResult.BadArgument;
        }
        if (vm.Effective is StreamContext stream)
        {
            stream.Stream.RequestReset();
            vm.Touch(stream);
        }
        return WasmResult.Ok;
    }

    private static WasmResult SendLocalResponse(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[1].AsInt32(), args[2].AsInt32(), out string details)
            || !GuestMemory.TryReadBytes(memory, args[3].AsInt32(), args[4].AsInt32(), out byte[] body)
            || !GuestMemory.TryGetSpan(memory, args[5].AsInt32(), args[6].AsInt32(), out var headerBytes))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (vm.Effective is not StreamContext context || context.Stream.ReplyLocked)
        {
            // One local reply per stream, and only before the response went downstream (docs/proxy-wasm.md, 'Stream control').
            return WasmResult.BadArgument;
        }
        int status = args[0].AsInt32();
        if (status is < 200 or > 599)
        {
            // A 1xx is not a final response: the client would wait for another after it.
            return WasmResult.BadArgument;
        }
        var pairs = Pairs;
        var headers = new HeaderCollection();
        if (HeaderPairs.TryParse(headerBytes, pairs))
        {
            var verdict = LocalReplyHeaders.Build(pairs, headers, vm.Runtime.Services.MessageLimits);
            if (verdict != HeaderVerdict.Write)
            {
                return HeaderResult(vm, verdict, "(local reply headers)");
            }
        }
        if (body.Length > vm.Runtime.Services.MessageLimits.MaxBodyBytes)
        {
            return Refuse(vm, HostLimit.BodySize, $"local reply body of {body.Length} bytes exceeds limits.maxBodyBytes");
        }
        if (body.Length > 0 && !headers.Contains("content-type"))
        {
            headers.Add("content-type", "text/plain");
        }
        // Envoy replaces whitespace in response-code details with '_' (docs/proxy-wasm.md, 'Stream control').
        var cleaned = new StringBuilder(details.Length);
        foreach (char ch in details)
        {
            cleaned.Append(char.IsWhiteSpace(ch) ? '_' : ch);
        }
        context.Stream.RequestLocalReply(new LocalReply(status, headers, body, cleaned.ToString()));
        vm.Touch(context);
        return WasmResult.Ok;
    }

    // ---- docs/proxy-wasm.md, 'Calls that wait'

    private static WasmResult HttpCall(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        int tokenPointer = args[9].AsInt32();
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string cluster)
            || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), args[3].AsInt32(), out var headerBytes))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        var pairs = Pairs;
        bool parsed = HeaderPairs.TryParse(headerBytes, pairs);
        if (!GuestMemory.TryReadBytes(memory, args[4].AsInt32(), args[5].AsInt32(), out byte[] body)
            || !GuestMemory.TryGetSpan(memory, args[6].AsInt32(), args[7].AsInt32(), out _)
            || !GuestMemory.TryWriteUInt32(memory, tokenPointer, 0))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        var dispatcher = vm.Runtime.Services.HttpCalls;
        if (!parsed || dispatcher is null || !dispatcher.HasCluster(cluster) || vm.Effective is not { } context)
        {
            return WasmResult.BadArgument;
        }
        var request = new HttpRequestHead { Scheme = "http" };
        var verdict = CalloutHeaders.Build(pairs, request, vm.Runtime.Services.MessageLimits, out bool hasAuthority);
        if (verdict != HeaderVerdict.Write)
        {
            return HeaderResult(vm, verdict, "(http_call headers)");
        }
        if (request.Method.Length == 0 || request.Target.Length == 0 || !hasAuthority)
        {
            // :method, :path and :authority must be present, as in Envoy; an empty :authority is accepted and the
            // dispatcher fills in the endpoint's host (the Go SDK's multiple-dispatch example sends one).
            return WasmResult.BadArgument;
        }
        if (body.Length > 0)
        {
            request.Framing = BodyFraming.ContentLength;
            request.ContentLength = body.Length;
        }
        var services = vm.Runtime.Services;
        int timeoutMs = args[8].AsInt32();
        var timeout = timeoutMs <= 0 ? services.DefaultHttpCallTimeout : TimeSpan.FromMilliseconds(timeoutMs);
        if (timeout > services.MaxHttpCallTimeout)
        {
            timeout = services.MaxHttpCallTimeout;
        }
        if (vm.PendingCalls.Count >= vm.Group.Limits.HttpCallsInFlight)
        {
            return Refuse(vm, HostLimit.HttpCalls, $"more than limits.httpCallsInFlight ({vm.Group.Limits.HttpCallsInFlight}) calls in flight", WasmResult.InternalFailure);
        }
        uint token = vm.NextToken();
        var call = new PendingCall(context.Root, context as StreamContext);
        vm.PendingCalls.Add(token, call);
        var completion = new HttpCallCompletion(vm, token, timeout);
        try
        {
            dispatcher.Send(cluster, request, body, timeout, completion.Complete);
        }
        catch (Exception)
        {
            completion.Abandon();
            vm.PendingCalls.Remove(token);
            return WasmResult.InternalFailure;
        }
        GuestMemory.TryWriteUInt32(memory, tokenPointer, token);
        return WasmResult.Ok;
    }

    /// <summary>
    /// Carries a callout's result back to the owning worker, once (docs/proxy-wasm.md, 'Calls that wait'). If the dispatcher never
    /// answers, a guard timer delivers Envoy's timeout shape (504, "upstream request timeout") so the plugin always
    /// gets its callback.
    /// </summary>
    private sealed class HttpCallCompletion
    {
        private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

        private readonly PluginVm _vm;
        private readonly uint _token;
        private readonly Timer _guard;
        private int _completed;

        public HttpCallCompletion(PluginVm vm, uint token, TimeSpan timeout)
        {
            _vm = vm;
            _token = token;
            _guard = new Timer(static s => ((HttpCallCompletion)s!).TimedOut(), this, timeout + Grace, Timeout.InfiniteTimeSpan);
        }

        /// <summary>The call could not start: no callback will follow (docs/proxy-wasm.md, 'Calls that wait').</summary>
        public void Abandon()
        {
            Interlocked.Exchange(ref _completed, 1);
            _guard.Dispose();
        }

        private void TimedOut()
        {
            var response = new HttpResponseHead { StatusCode = 504 };
            response.Headers.Add("content-type", "text/plain");
            Complete(new HttpCallResult(true, response, "upstream request timeout"u8.ToArray(), "timeout"));
        }

        public void Complete(HttpCallResult result)
        {
            if (Interlocked.Exchange(ref _completed, 1) == 0)
            {
                _guard.Dispose();
                _vm.Loop.Post(static s =>
                {
                    var (completion, callResult) = ((HttpCallCompletion, HttpCallResult))s!;
                    completion.Deliver(callResult);
                }, (this, result));
            }
        }

        private void Deliver(HttpCallResult result) => _vm.DeliverHttpCallResponse(_token, result);
    }

    private static WasmResult GetStatus(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var (code, message) = vm.CallStatus;
        if (!GuestMemory.TryWriteUInt32(vm.GetMemory(caller), args[0].AsInt32(), (uint)code))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        return GuestMemory.Return(vm, caller, Encoding.UTF8.GetBytes(message), args[1].AsInt32(), args[2].AsInt32());
    }

    // ---- docs/proxy-wasm.md, 'Other imports'

    private static GuestMetrics MetricsOf(PluginVm vm) => (vm.Effective?.Plugin ?? vm.Group.Plugins[0]).Metrics;

    private static WasmResult DefineMetric(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        int type = args[0].AsInt32();
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[1].AsInt32(), args[2].AsInt32(), out string name))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if ((uint)type > GuestMetrics.Histogram)
        {
            return WasmResult.BadArgument;
        }
        var plugin = PluginOf(vm);
        int id = MetricsOf(vm).Define(type, plugin.Name, name, vm.Group.Limits.MaxMetrics);
        if (id < 0)
        {
            return Refuse(vm, HostLimit.Metrics, $"metric '{Printable(name)}' exceeds limits.maxMetrics or was defined with another type");
        }
        return GuestMemory.TryWriteUInt32(memory, args[3].AsInt32(), (uint)id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    }

    private static WasmResult UpdateMetric(PluginVm vm, int id, long value, bool increment)
    {
        if (MetricsOf(vm).Find(id) is not { } metric)
        {
            return WasmResult.NotFound;
        }
        switch (metric.Type)
        {
            case GuestMetrics.Counter:
                if (increment && value <= 0)
                {
                    return WasmResult.BadArgument;
                }
                metric.Add(value);
                return WasmResult.Ok;
            case GuestMetrics.Gauge:
                if (increment)
                {
                    metric.Add(value);
                }
                else
                {
                    metric.Set(value);
                }
                return WasmResult.Ok;
            default:
                if (increment)
                {
                    return WasmResult.BadArgument;
                }
                metric.Observe(value);
                return WasmResult.Ok;
        }
    }

    private static WasmResult GetMetric(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        if (!GuestMemory.TryGetSpan(vm.GetMemory(caller), args[1].AsInt32(), 8, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (MetricsOf(vm).Find(args[0].AsInt32()) is not { } metric)
        {
            return WasmResult.NotFound;
        }
        if (metric.Type == GuestMetrics.Histogram)
        {
            return WasmResult.BadArgument;
        }
        return GuestMemory.TryWriteUInt64(vm.GetMemory(caller), args[1].AsInt32(), (ulong)metric.Value)
            ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    }

    // ---- docs/proxy-wasm.md, 'Other imports'

    private static WasmResult GetSharedData(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string key)
            || !GuestMemory.TryGetSpan(memory, args[4].AsInt32(), 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (!vm.Runtime.SharedData.TryGet(vm.Group.Namespace, key, out byte[] value, out uint cas))
        {
            return WasmResult.NotFound;
        }
        var status = GuestMemory.Return(vm, caller, value, args[2].AsInt32(), args[3].AsInt32());
        if (status == WasmResult.Ok && !GuestMemory.TryWriteUInt32(vm.GetMemory(caller), args[4].AsInt32(), cas))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        return status;
    }

    private static WasmResult SetSharedData(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string key)
            || !GuestMemory.TryReadBytes(memory, args[2].AsInt32(), args[3].AsInt32(), out byte[] value))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        long cap = vm.Group.Limits.SharedDataBytes;
        return vm.Runtime.SharedData.TrySet(vm.Group.Namespace, key, value, (uint)args[4].AsInt32(), cap) switch
        {
            SharedDataResult.Stored => WasmResult.Ok,
            SharedDataResult.CasMismatch => WasmResult.CasMismatch,
            _ => Refuse(vm, HostLimit.SharedData, $"shared data would exceed limits.sharedDataBytes ({cap})", WasmResult.InternalFailure),
        };
    }

    private static WasmResult RegisterSharedQueue(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string name)
            || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        var root = vm.Effective?.Root ?? vm.RootOf(vm.Group.Plugins[0]);
        uint id = vm.Runtime.Queues.Register(vm.Group.Namespace, name, root);
        GuestMemory.TryWriteUInt32(memory, args[2].AsInt32(), id);
        return WasmResult.Ok;
    }

    private static WasmResult ResolveSharedQueue(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string vmId)
            || !GuestMemory.TryReadUtf8(memory, args[2].AsInt32(), args[3].AsInt32(), out string name)
            || !GuestMemory.TryGetSpan(memory, args[4].AsInt32(), 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        // An empty vm_id is the caller's own namespace; a plugin's private namespace cannot be named by others.
        if ((vmId.Length > 0 && vmId[0] == '\0') || !vm.Runtime.Queues.TryResolve(vmId.Length == 0 ? vm.Group.Namespace : vmId, name, out uint id))
        {
            return WasmResult.NotFound;
        }
        GuestMemory.TryWriteUInt32(memory, args[4].AsInt32(), id);
        return WasmResult.Ok;
    }

    private static WasmResult EnqueueSharedQueue(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        if (!GuestMemory.TryReadBytes(vm.GetMemory(caller), args[1].AsInt32(), args[2].AsInt32(), out byte[] item))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        long cap = vm.Group.Limits.SharedQueueBytes;
        return vm.Runtime.Queues.Enqueue(vm.Group.Namespace, (uint)args[0].AsInt32(), item, cap) switch
        {
            QueueResult.Done => WasmResult.Ok,
            QueueResult.NotFound => WasmResult.NotFound,
            _ => Refuse(vm, HostLimit.SharedQueue, $"queued items would exceed limits.sharedQueueBytes ({cap})", WasmResult.InternalFailure),
        };
    }

    private static WasmResult DequeueSharedQueue(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryGetSpan(memory, args[1].AsInt32(), 4, out _) || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), 4, out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (vm.Runtime.Queues.TryDequeue(vm.Group.Namespace, (uint)args[0].AsInt32(), out byte[]? item) != QueueResult.Done)
        {
            return WasmResult.NotFound;
        }
        if (item is null)
        {
            return WasmResult.Empty;
        }
        return GuestMemory.Return(vm, caller, item, args[1].AsInt32(), args[2].AsInt32());
    }

    // ---- docs/proxy-wasm.md, 'Other imports'

    private static WasmResult GetProperty(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        if (!GuestMemory.TryGetSpan(vm.GetMemory(caller), args[0].AsInt32(), args[1].AsInt32(), out var pathBytes))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (!PropertyPath.TryNormalize(pathBytes, out string path))
        {
            return WasmResult.NotFound;
        }
        var status = Properties.TryGet(vm, path, out byte[] value);
        return status == WasmResult.Ok ? GuestMemory.Return(vm, caller, value, args[2].AsInt32(), args[3].AsInt32()) : status;
    }

    private static WasmResult SetProperty(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryGetSpan(memory, args[0].AsInt32(), args[1].AsInt32(), out var pathBytes))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        bool valid = PropertyPath.TryNormalize(pathBytes, out string path);
        if (!GuestMemory.TryReadBytes(memory, args[2].AsInt32(), args[3].AsInt32(), out byte[] value))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (vm.Effective is not StreamContext context)
        {
            // Outside a stream there is no property bag ([ENVOY], docs/proxy-wasm.md, 'Other imports').
            return WasmResult.NotFound;
        }
        if (!valid)
        {
            return WasmResult.BadArgument;
        }
        (context.Stream.Properties ??= new(StringComparer.Ordinal))[path] = value;
        // Higress control keys (docs/proxy-wasm.md, 'Other imports').
        if (path == "wasm_need_rebuild" && value.AsSpan().SequenceEqual("true"u8))
        {
            vm.RebuildRequested = true;
        }
        else if (path == "clear_route_cache" && value.AsSpan().SequenceEqual("off"u8))
        {
            context.Stream.KeepRouteCache();
        }
        return WasmResult.Ok;
    }

    // ---- docs/proxy-wasm.md, 'Other imports'

    private static WasmResult CallForeignFunction(PluginVm vm, Caller caller, ReadOnlySpan<ValueBox> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string name)
            || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), args[3].AsInt32(), out var input))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        int cap = vm.Group.Limits.HostCallBytes;
        if (name is "compress" or "uncompress" && input.Length > cap)
        {
            return Refuse(vm, HostLimit.HostCallBytes, $"{name} input of {input.Length} bytes exceeds limits.hostCallBytes");
        }
        byte[]? output;
        try
        {
            switch (name)
            {
                case "compress":
                    output = BoundedZlib.Compress(input, cap);
                    break;
                case "uncompress":
                    output = BoundedZlib.Uncompress(input, cap);
                    break;
                case "get_log_level":
                    // Higress: the plugin's level as a little-endian u32; without it its Go SDK formats every call at trace.
                    output = new byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(output, (uint)LogLevelOf(vm));
                    break;
                case "set_global_max_requests_per_io_cycle":
                    // Higress tunes Envoy's event loop with it; the gateway has no such knob, so it is accepted.
                    output = [];
                    break;
                default:
                    var plugin = vm.Effective?.Plugin ?? vm.Group.Plugins[0];
                    if (plugin.FirstCallOfUnknownForeignFunction(name))
                    {
                        PluginLog.UnknownForeignFunction(plugin.Logger, plugin.Name, name);
                    }
                    return WasmResult.NotFound;
            }
        }
        catch (InvalidDataException)
        {
            return WasmResult.SerializationFailure;
        }
        if (output is null)
        {
            return Refuse(vm, HostLimit.HostCallBytes, $"{name} output exceeds limits.hostCallBytes");
        }
        return GuestMemory.Return(vm, caller, output, args[4].AsInt32(), args[5].AsInt32());
    }

    // ---- docs/proxy-wasm.md, 'Other imports'

    private static void AssemblyScriptAbort(Caller caller, ReadOnlySpan<ValueBox> args, Span<ValueBox> results)
    {
        var vm = (PluginVm)caller.GetData()!;
        var memory = vm.GetMemory(caller);
        string message = ReadAssemblyScriptString(memory, args[0].AsInt32());
        string file = ReadAssemblyScriptString(memory, args[1].AsInt32());
        (vm.Effective?.Plugin ?? vm.Group.Plugins[0]).GuestLog.Write(LogLevel.Error, $"abort: {message} at {file}:{args[2].AsInt32()}:{args[3].AsInt32()}");
        throw new InvalidOperationException($"abort: {message}");
    }

    /// <summary>AssemblyScript strings are UTF-16LE with their byte length in the 4 bytes before the pointer.</summary>
    private static string ReadAssemblyScriptString(Memory memory, int pointer)
    {
        if (pointer < 4 || !GuestMemory.TryGetSpan(memory, pointer - 4, 4, out var header))
        {
            return "";
        }
        int length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header), 4096);
        return GuestMemory.TryGetSpan(memory, pointer, length & ~1, out var text) ? Encoding.Unicode.GetString(text) : "";
    }

    private static long MonotonicNanoseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
}
