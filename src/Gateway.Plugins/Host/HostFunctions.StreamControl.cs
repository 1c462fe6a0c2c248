using Gateway.Http.Messages;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>Stream control: continue or close a paused stream, answer it locally, or clear its route. The stream decides; these only decode guest memory.</summary>
internal static partial class HostFunctions
{
    private static void AddStreamControl(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_continue_stream", "i", (vm, c, a) => ContinueStream(vm, a[0].AsInt32()));
        Add(env, "proxy_close_stream", "i", CloseStream);
        Add(env, "proxy_continue_request", "", (vm, c, a) => ContinueStream(vm, (int)StreamType.HttpRequest));
        Add(env, "proxy_continue_response", "", (vm, c, a) => ContinueStream(vm, (int)StreamType.HttpResponse));
        Add(env, "proxy_clear_route_cache", "", (vm, c, a) =>
        {
            (vm.Effective as StreamContext)?.Stream.Route.Clear();
            return WasmResult.Ok;
        });
        Add(env, "proxy_send_local_response", "iiiiiiii", SendLocalResponse);
    }

    private static WasmResult ContinueStream(PluginVm vm, int type)
    {
        if ((uint)type > (uint)StreamType.Upstream)
        {
            return WasmResult.BadArgument;
        }
        if (vm.Effective is StreamContext stream && type <= (int)StreamType.HttpResponse)
        {
            stream.Continue(request: type == (int)StreamType.HttpRequest);
        }
        return WasmResult.Ok;
    }

    private static WasmResult CloseStream(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        if ((uint)args[0].AsInt32() > (uint)StreamType.Upstream)
        {
            return WasmResult.BadArgument;
        }
        if (vm.Effective is StreamContext stream)
        {
            stream.Close();
        }
        return WasmResult.Ok;
    }

    private static WasmResult SendLocalResponse(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
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
        context.SendLocalReply(status, headers, body, details);
        return WasmResult.Ok;
    }
}
