using Gateway.Plugins.Abi;
using Gateway.Plugins.Logging;
using Gateway.Plugins.Runtime;
using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// The guest's callbacks, resolved once per instance with the types the ABI version gives them. A callback the
/// module does not export, or exports with another type, is null: the host skips it (a mistyped one with a warning,
/// docs/proxy-wasm.md, 'Loading and VMs').
/// </summary>
internal sealed class GuestExports
{
    /// <summary>Before instantiation: no callbacks.</summary>
    public static readonly GuestExports None = new();

    private GuestExports()
    {
    }

    private GuestExports(Instance instance, AbiVersion abi)
    {
        Allocate = instance.GetFunction<int, int>("proxy_on_memory_allocate") ?? instance.GetFunction<int, int>("malloc");
        OnContextCreate = instance.GetAction<int, int>("proxy_on_context_create");
        OnVmStart = instance.GetFunction<int, int, int>("proxy_on_vm_start");
        OnConfigure = instance.GetFunction<int, int, int>("proxy_on_configure");
        OnTick = instance.GetAction<int>("proxy_on_tick");
        OnQueueReady = instance.GetAction<int, int>("proxy_on_queue_ready");
        if (abi == AbiVersion.V0_1_0)
        {
            OnRequestHeaders010 = instance.GetFunction<int, int, int>("proxy_on_request_headers");
            OnResponseHeaders010 = instance.GetFunction<int, int, int>("proxy_on_response_headers");
        }
        else
        {
            OnRequestHeaders = instance.GetFunction<int, int, int, int>("proxy_on_request_headers");
            OnResponseHeaders = instance.GetFunction<int, int, int, int>("proxy_on_response_headers");
        }
        OnRequestBody = instance.GetFunction<int, int, int, int>("proxy_on_request_body");
        OnRequestTrailers = instance.GetFunction<int, int, int>("proxy_on_request_trailers");
        OnResponseBody = instance.GetFunction<int, int, int, int>("proxy_on_response_body");
        OnResponseTrailers = instance.GetFunction<int, int, int>("proxy_on_response_trailers");
        OnLog = instance.GetAction<int>("proxy_on_log");
        OnDone = instance.GetFunction<int, int>("proxy_on_done");
        OnDelete = instance.GetAction<int>("proxy_on_delete");
        OnHttpCallResponse = instance.GetAction<int, int, int, int, int>("proxy_on_http_call_response");
        OnRedisCallResponse = instance.GetAction<int, int, int, int>("proxy_on_redis_call_response");
        OnSqlCallResponse = instance.GetAction<int, int, int, int, int>("proxy_on_sql_call_response");
    }

    /// <summary>Resolves the callbacks of <paramref name="instance"/> and warns about the mistyped ones.</summary>
    public static GuestExports Resolve(Instance instance, VmGroup group)
    {
        var exports = new GuestExports(instance, group.Module.Abi);
        bool v010 = group.Module.Abi == AbiVersion.V0_1_0;
        WarnIfMistyped(group, "proxy_on_request_headers", v010 ? exports.OnRequestHeaders010 : exports.OnRequestHeaders);
        WarnIfMistyped(group, "proxy_on_response_headers", v010 ? exports.OnResponseHeaders010 : exports.OnResponseHeaders);
        WarnIfMistyped(group, "proxy_on_request_body", exports.OnRequestBody);
        WarnIfMistyped(group, "proxy_on_response_body", exports.OnResponseBody);
        WarnIfMistyped(group, "proxy_on_context_create", exports.OnContextCreate);
        WarnIfMistyped(group, "proxy_on_http_call_response", exports.OnHttpCallResponse);
        return exports;
    }

    private static void WarnIfMistyped(VmGroup group, string name, Delegate? resolved)
    {
        if (resolved is null && group.Module.Exports.Contains(name))
        {
            PluginLog.CallbackMistyped(group.Logger, group.Name, name);
        }
    }

    /// <summary><c>proxy_on_memory_allocate</c>, else <c>malloc</c>; a module without either cannot receive data.</summary>
    public Func<int, int>? Allocate { get; }

    public Action<int, int>? OnContextCreate { get; }

    public Func<int, int, int>? OnVmStart { get; }

    public Func<int, int, int>? OnConfigure { get; }

    public Action<int>? OnTick { get; }

    public Action<int, int>? OnQueueReady { get; }

    public Func<int, int, int, int>? OnRequestHeaders { get; }

    /// <summary>0.1.0 passes no end-of-stream flag to the header callbacks.</summary>
    public Func<int, int, int>? OnRequestHeaders010 { get; }

    public Func<int, int, int, int>? OnRequestBody { get; }

    public Func<int, int, int>? OnRequestTrailers { get; }

    public Func<int, int, int, int>? OnResponseHeaders { get; }

    public Func<int, int, int>? OnResponseHeaders010 { get; }

    public Func<int, int, int, int>? OnResponseBody { get; }

    public Func<int, int, int>? OnResponseTrailers { get; }

    public Action<int>? OnLog { get; }

    public Func<int, int>? OnDone { get; }

    public Action<int>? OnDelete { get; }

    public Action<int, int, int, int, int>? OnHttpCallResponse { get; }

    public Action<int, int, int, int>? OnRedisCallResponse { get; }

    public Action<int, int, int, int, int>? OnSqlCallResponse { get; }
}
