using Gateway.Backends;
using Gateway.Backends.Redis;
using Gateway.Backends.Sql;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Logging;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Vm;
using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>
/// The Redis (docs/proxy-wasm.md, 'Calls that wait', Higress-compatible) and SQL (docs/proxy-wasm.md, 'The SQL extension') calls. Each starts the operation, returns a token at
/// once, and posts the completion to the VM's worker; the guest is never entered from inside the import.
/// Endpoints and credentials stay in the gateway: the plugin only names a configured target.
/// </summary>
internal static partial class HostFunctions
{
    private static WasmResult RedisInit(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string cluster)
            || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), args[3].AsInt32(), out _)
            || !GuestMemory.TryGetSpan(memory, args[4].AsInt32(), args[5].AsInt32(), out _))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        // The wrapper appends "?db=…&buffer_flush_timeout=…"; the cluster is what precedes the first '?' (docs/proxy-wasm.md, 'Calls that wait').
        int query = cluster.IndexOf('?');
        string name = query < 0 ? cluster : cluster[..query];
        if (vm.Effective is not { } context)
        {
            return WasmResult.BadArgument;
        }
        if (vm.Runtime.Services.Backends is not { } backends || backends.FindRedis(name) is not { } target)
        {
            if (vm.Runtime.Services.Backends?.IsFirstUnknownRedisName(context.Plugin.Name, name) ?? true)
            {
                PluginLog.RedisUnknownTarget(context.Plugin.Logger, context.Plugin.Name, name, vm.Runtime.Services.Backends?.RedisNames ?? "none");
            }
            return WasmResult.BadArgument;
        }
        if (args[3].AsInt32() != 0 || args[5].AsInt32() != 0)
        {
            // The gateway authenticates its own connections; plugin credentials are ignored, never logged (docs/proxy-wasm.md, 'Calls that wait').
            PluginLog.RedisCredentialsIgnored(context.Plugin.Logger, context.Plugin.Name);
        }
        if (!target.TryChooseDatabase(query < 0 ? default : cluster.AsSpan(query + 1), context.Plugin.Name, out int database))
        {
            return WasmResult.BadArgument;
        }
        context.Root.RedisTimeouts[name] = Math.Max(0, args[6].AsInt32());
        context.Root.RedisDatabases[name] = database;
        return WasmResult.Ok;
    }

    private static WasmResult RedisCall(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        int tokenPointer = args[4].AsInt32();
        if (!GuestMemory.TryReadUtf8(memory, args[0].AsInt32(), args[1].AsInt32(), out string cluster)
            || !GuestMemory.TryReadBytes(memory, args[2].AsInt32(), args[3].AsInt32(), out byte[] command)
            || !GuestMemory.TryWriteUInt32(memory, tokenPointer, 0))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        int query = cluster.IndexOf('?');
        string name = query < 0 ? cluster : cluster[..query];
        if (vm.Runtime.Services.Backends?.FindRedis(name) is not { } target || vm.Effective is not { } context)
        {
            return WasmResult.BadArgument;
        }
        // Malformed or refused commands never reach a socket; the client logs them once per plugin and command.
        var client = target.ForPlugin(context.Plugin.Name);
        if (client.Admit(command) is not { } admitted)
        {
            return WasmResult.BadArgument;
        }
        if (!context.Plugin.TryStartBackendCall(vm.Runtime.Services.MaxBackendCallsInFlightPerPlugin))
        {
            return WasmResult.InternalFailure;
        }
        context.Root.RedisTimeouts.TryGetValue(name, out int timeoutMs);
        if (!context.Root.RedisDatabases.TryGetValue(name, out int database))
        {
            database = -1;
        }
        uint token = vm.PendingCalls.Start(context);
        // The reply is handed to the VM's worker by the thread that read it, without a thread-pool hop.
        client.Start(admitted, timeoutMs, database, vm.Loop.Scheduler, new RedisHostCompletion(vm, context.Plugin, token));
        GuestMemory.TryWriteUInt32(memory, tokenPointer, token);
        return WasmResult.Ok;
    }

    private static WasmResult SqlCall(PluginVm vm, Caller caller, ReadOnlySpan<ImportArg> args)
    {
        var memory = vm.GetMemory(caller);
        int tokenPointer = args[7].AsInt32();
        if (!GuestMemory.TryGetSpan(memory, args[0].AsInt32(), args[1].AsInt32(), out var targetBytes)
            || !GuestMemory.TryGetSpan(memory, args[2].AsInt32(), args[3].AsInt32(), out var statementBytes)
            || !GuestMemory.TryReadBytes(memory, args[4].AsInt32(), args[5].AsInt32(), out byte[] parameters)
            || !GuestMemory.TryWriteUInt32(memory, tokenPointer, 0))
        {
            return WasmResult.InvalidMemoryAccess;
        }
        if (!TryStrictUtf8(targetBytes, out string target) || !TryStrictUtf8(statementBytes, out string statement))
        {
            return WasmResult.BadArgument;
        }
        if (vm.Runtime.Services.Backends?.FindDatabase(target) is not { } database || vm.Effective is not { } context)
        {
            return WasmResult.NotFound;
        }
        switch (database.Validate(statement, parameters))
        {
            case SqlDispatchStatus.NotFound:
                return WasmResult.NotFound;
            case SqlDispatchStatus.BadArgument:
                return WasmResult.BadArgument;
        }
        if (!context.Plugin.TryStartBackendCall(vm.Runtime.Services.MaxBackendCallsInFlightPerPlugin))
        {
            return WasmResult.InternalFailure;
        }
        uint token = vm.PendingCalls.Start(context);
        // The plugin's in-flight slot is freed when the statement really ended on the server, which after
        // a timeout can be later than the callback.
        _ = CompleteSqlAsync(vm, token, database.ExecuteAsync(statement, parameters, Math.Max(0, args[6].AsInt32()),
            context.Plugin.Name, EndBackendCall, context.Plugin));
        GuestMemory.TryWriteUInt32(memory, tokenPointer, token);
        return WasmResult.Ok;
    }

    private static readonly Action<object?> EndBackendCall = static plugin => ((PluginDefinition)plugin!).EndBackendCall();

    private static async Task CompleteSqlAsync(PluginVm vm, uint token, Task<SqlResult> call)
    {
        var result = await call.ConfigureAwait(false);
        vm.Loop.Post(static s =>
        {
            var (owner, id, sqlResult) = ((PluginVm, uint, SqlResult))s!;
            owner.DeliverSqlResult(id, sqlResult);
        }, (vm, token, result));
    }

    private static bool TryStrictUtf8(ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (System.Text.DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }
}
