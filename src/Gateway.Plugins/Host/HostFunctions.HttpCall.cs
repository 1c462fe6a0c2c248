using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Sandbox;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>HTTP callouts and the status of a completion; gRPC is not offered, and its imports answer statuses every SDK tolerates.</summary>
internal static partial class HostFunctions
{
    private static void AddHttpCall(Dictionary<string, Definition> env)
    {
        Add(env, "proxy_http_call", "iiiiiiiiii", HttpCall);
        Add(env, "proxy_get_status", "iii", GetStatus);
        Add(env, "proxy_grpc_call", "iiiiiiiiiiii", (vm, c, a) => WasmResult.InternalFailure);
        Add(env, "proxy_grpc_stream", "iiiiiiiii", (vm, c, a) => WasmResult.InternalFailure);
        Add(env, "proxy_grpc_send", "iiii", (vm, c, a) => WasmResult.NotFound);
        Add(env, "proxy_grpc_cancel", "i", (vm, c, a) => WasmResult.NotFound);
        Add(env, "proxy_grpc_close", "i", (vm, c, a) => WasmResult.NotFound);
    }

    private static WasmResult HttpCall(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
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
        uint token = vm.PendingCalls.Start(context);
        var completion = new HttpCallCompletion(vm, token, timeout);
        try
        {
            dispatcher.Send(cluster, request, body, timeout, completion.Complete);
        }
        catch (Exception)
        {
            completion.Abandon();
            vm.PendingCalls.Cancel(token);
            return WasmResult.InternalFailure;
        }
        GuestMemory.TryWriteUInt32(memory, tokenPointer, token);
        return WasmResult.Ok;
    }

    private static WasmResult GetStatus(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var (code, message) = vm.CallStatus;
        if (!GuestMemory.TryWriteUInt32(vm.GetMemory(caller), args[0].AsInt32(), (uint)code))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        return GuestMemory.Return(vm, caller, Encoding.UTF8.GetBytes(message), args[1].AsInt32(), args[2].AsInt32());
    }
}
