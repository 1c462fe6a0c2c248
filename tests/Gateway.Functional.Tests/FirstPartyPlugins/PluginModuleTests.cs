namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// Static checks of the first-party modules against the proxy-wasm ABI the host implements (ABI
/// reference docs/proxy-wasm.md, 'Loading and VMs', 'Contexts and callbacks', 'Other imports', 'Calls that wait' and 'The SQL extension'): each builds, validates, declares its ABI version, exports the
/// callbacks it relies on with the exact types the host looks up, and imports nothing the host lacks.
/// </summary>
public sealed class PluginModuleTests
{
    private const string HeaderCallback = "(i32, i32, i32) -> i32";

    [Fact]
    public void PassthroughModule_ExportsOnlyHeaderCallbacksAndImportsNothing()
    {
        var module = WasmModuleInfo.Read(FirstPartyPluginBuild.PathOf("passthrough"));

        AssertReactorWithAllocator(module, "proxy_abi_version_0_2_1");
        Assert.Equal(HeaderCallback, module.Exports["proxy_on_request_headers"]);
        Assert.Equal(HeaderCallback, module.Exports["proxy_on_response_headers"]);
        Assert.Empty(module.Imports);
    }

    [Fact]
    public void AddHeaderModule_AddsHeadersThroughTheMapImportOnly()
    {
        var module = WasmModuleInfo.Read(FirstPartyPluginBuild.PathOf("add_header"));

        AssertReactorWithAllocator(module, "proxy_abi_version_0_2_1");
        Assert.Equal(HeaderCallback, module.Exports["proxy_on_request_headers"]);
        Assert.Equal(HeaderCallback, module.Exports["proxy_on_response_headers"]);
        Assert.Equal(["env.proxy_add_header_map_value"], module.Imports.Keys);
        Assert.Equal("(i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_add_header_map_value"]);
    }

    [Fact]
    public void RateLimitModule_UsesTheHigressRedisCallsWithTheirExactTypes()
    {
        var module = WasmModuleInfo.Read(FirstPartyPluginBuild.PathOf("rate_limit"));

        AssertReactorWithAllocator(module, "proxy_abi_version_0_2_1");
        // docs/proxy-wasm.md, 'Calls that wait'
        Assert.Equal("(i32, i32, i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_redis_init"]);
        Assert.Equal("(i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_redis_call"]);
        Assert.Equal("(i32, i32, i32, i32) -> nil", module.Exports["proxy_on_redis_call_response"]);
        // docs/proxy-wasm.md, 'Other imports' local mode, docs/proxy-wasm.md, 'Other imports' the failure metric, docs/proxy-wasm.md, 'Stream control' the 429
        Assert.Equal("(i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_get_shared_data"]);
        Assert.Equal("(i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_set_shared_data"]);
        Assert.Equal("(i32, i64) -> i32", module.Imports["env.proxy_increment_metric"]);
        Assert.Equal("(i32, i32, i32, i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_send_local_response"]);
        // docs/proxy-wasm.md, 'Contexts and callbacks' lifecycle and phases
        Assert.Equal("(i32, i32) -> nil", module.Exports["proxy_on_context_create"]);
        Assert.Equal("(i32, i32) -> i32", module.Exports["proxy_on_configure"]);
        Assert.Equal(HeaderCallback, module.Exports["proxy_on_request_headers"]);
        Assert.Equal(HeaderCallback, module.Exports["proxy_on_response_headers"]);
        Assert.Equal("(i32) -> nil", module.Exports["proxy_on_delete"]);
        AssertOnlyProxyImports(module, allowed: []);
    }

    [Fact]
    public void ApiKeyModule_UsesTheSqlCallAndExportsItsCallback()
    {
        var module = WasmModuleInfo.Read(FirstPartyPluginBuild.PathOf("api_key"));

        // AssemblyScript: no _initialize (the start section runs at instantiation), malloc as allocator.
        Assert.Equal("() -> nil", module.Exports["proxy_abi_version_0_2_0"]);
        Assert.Equal("(i32) -> i32", module.Exports["malloc"]);
        Assert.Equal("memory", module.Exports["memory"]);
        // docs/proxy-wasm.md, 'The SQL extension' / docs/proxy-wasm.md, 'The SQL extension': importing proxy_sql_call without the callback would be rejected at load.
        Assert.Equal("(i32, i32, i32, i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_sql_call"]);
        Assert.Equal("(i32, i32, i32, i32, i32) -> nil", module.Exports["proxy_on_sql_call_response"]);
        Assert.Equal("(i32, i32) -> nil", module.Exports["proxy_on_context_create"]);
        Assert.Equal(HeaderCallback, module.Exports["proxy_on_request_headers"]);
        Assert.Equal("(i32) -> nil", module.Exports["proxy_on_delete"]);
        Assert.Equal("(i32) -> i32", module.Exports["proxy_on_done"]);
        // the key header is removed and tenant/plan set before the request goes upstream
        Assert.Contains("env.proxy_remove_header_map_value", module.Imports.Keys);
        Assert.Contains("env.proxy_replace_header_map_value", module.Imports.Keys);
        // abort=abort_proc_exit: the only non-env import is wasi_unstable.proc_exit, never env.abort
        AssertOnlyProxyImports(module, allowed: ["wasi_unstable.proc_exit"]);
    }

    [Fact]
    public void ExtEchoModule_UsesBothExtensionsThroughTheAssemblyScriptSdk()
    {
        var module = WasmModuleInfo.Read(FirstPartyPluginBuild.PathOf("ext_echo"));

        Assert.Equal("() -> nil", module.Exports["proxy_abi_version_0_2_0"]);
        Assert.Equal("(i32, i32, i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_redis_init"]);
        Assert.Equal("(i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_redis_call"]);
        Assert.Equal("(i32, i32, i32, i32, i32, i32, i32, i32) -> i32", module.Imports["env.proxy_sql_call"]);
        Assert.Equal("(i32, i32, i32, i32) -> nil", module.Exports["proxy_on_redis_call_response"]);
        Assert.Equal("(i32, i32, i32, i32, i32) -> nil", module.Exports["proxy_on_sql_call_response"]);
        AssertOnlyProxyImports(module, allowed: ["wasi_unstable.proc_exit"]);
    }

    [Fact]
    public void EveryModule_ImportsOnlyFunctionsTheHostLinks()
    {
        foreach (string name in FirstPartyPluginBuild.Modules)
        {
            var module = WasmModuleInfo.Read(FirstPartyPluginBuild.PathOf(name));
            Assert.All(module.Imports.Keys, import => Assert.True(
                KnownHostImports.Contains(import) || import == "wasi_unstable.proc_exit",
                $"{name} imports {import}, which the host does not define (it would hit the generic stub)"));
        }
    }

    // docs/proxy-wasm.md, 'Other imports' (the imports the first-party modules may use).
    private static readonly HashSet<string> KnownHostImports =
    [
        "env.proxy_log", "env.proxy_get_buffer_bytes", "env.proxy_get_header_map_value",
        "env.proxy_add_header_map_value", "env.proxy_replace_header_map_value", "env.proxy_remove_header_map_value",
        "env.proxy_continue_stream", "env.proxy_send_local_response", "env.proxy_get_current_time_nanoseconds",
        "env.proxy_define_metric", "env.proxy_increment_metric", "env.proxy_get_shared_data",
        "env.proxy_set_shared_data", "env.proxy_get_property", "env.proxy_set_effective_context",
        "env.proxy_redis_init", "env.proxy_redis_call", "env.proxy_sql_call",
    ];

    private static void AssertReactorWithAllocator(WasmModuleInfo module, string marker)
    {
        Assert.Equal("() -> nil", module.Exports[marker]);
        Assert.Equal("() -> nil", module.Exports["_initialize"]);
        Assert.Equal("(i32) -> i32", module.Exports["proxy_on_memory_allocate"]);
        Assert.Equal("memory", module.Exports["memory"]);
    }

    private static void AssertOnlyProxyImports(WasmModuleInfo module, string[] allowed)
    {
        Assert.All(module.Imports.Keys, import => Assert.True(
            import.StartsWith("env.proxy_", StringComparison.Ordinal) || allowed.Contains(import),
            "unexpected import " + import));
    }
}
