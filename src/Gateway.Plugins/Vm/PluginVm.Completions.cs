using Gateway.Backends.Redis;
using Gateway.Backends.Sql;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Runtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// Completions of the VM's asynchronous calls, and its ticks and queue notifications: each is posted to the owning
/// worker and delivered to the root context that made the call. A completion's data is readable only during its
/// callback.
/// </summary>
internal sealed partial class PluginVm
{
    /// <summary>Completion data readable only during its callback (docs/proxy-wasm.md, 'Calls that wait').</summary>
    public HttpCallResult? HttpCallResponse { get; private set; }

    public byte[]? RedisReply { get; private set; }

    public byte[]? SqlBody { get; private set; }

    /// <summary>What <c>proxy_get_status</c> reports inside a completion callback.</summary>
    public (int Code, string Message) CallStatus { get; private set; } = (0, "");

    // ---- Completions, ticks and queues: always named by the root context (docs/proxy-wasm.md, 'Contexts and callbacks'), posted to this worker.

    public void DeliverHttpCallResponse(uint token, HttpCallResult result)
    {
        if (!TakePending(token, out var call))
        {
            return;
        }
        HttpCallResponse = result;
        CallStatus = result.Succeeded ? (0, "") : ((int)WasmResult.BrokenConnection, "reset");
        try
        {
            if (_exports.OnHttpCallResponse is not null)
            {
                int headers = result.Succeeded && result.Response is not null ? result.Response.Headers.Count + 1 : 0;
                Invoke(call.Root, _exports.OnHttpCallResponse, call.Root.Id, (int)token, headers, result.Succeeded ? result.Body.Length : 0, 0);
            }
        }
        finally
        {
            HttpCallResponse = null;
            CallStatus = (0, "");
        }
        RunDeferred();
    }

    public void DeliverRedisReply(uint token, RedisReply reply)
    {
        if (!TakePending(token, out var call))
        {
            return;
        }
        bool ok = reply.Status == RedisCallStatus.Ok;
        RedisReply = ok ? reply.Resp : [];
        CallStatus = ok ? (0, "") : ((int)WasmResult.BrokenConnection, "reset");
        try
        {
            if (_exports.OnRedisCallResponse is not null)
            {
                Invoke(call.Root, _exports.OnRedisCallResponse, call.Root.Id, (int)token, (int)reply.Status, RedisReply.Length);
            }
        }
        finally
        {
            RedisReply = null;
            CallStatus = (0, "");
        }
        RunDeferred();
    }

    public void DeliverSqlResult(uint token, SqlResult result)
    {
        if (!TakePending(token, out var call))
        {
            return;
        }
        SqlBody = result.Body;
        try
        {
            if (_exports.OnSqlCallResponse is not null)
            {
                int rows = result.Status == SqlCallStatus.Ok ? result.RowCount : 0;
                Invoke(call.Root, _exports.OnSqlCallResponse, call.Root.Id, (int)token, (int)result.Status, rows, result.Body.Length);
            }
        }
        finally
        {
            SqlBody = null;
        }
        RunDeferred();
    }

    public void DeliverTick(RootContext root)
    {
        if (Failed || root.Deleted || _exports.OnTick is null)
        {
            return;
        }
        Invoke(root, _exports.OnTick, root.Id);
        RunDeferred();
    }

    public void DeliverQueueReady(RootContext root, uint queueId)
    {
        if (Failed || root.Deleted || _exports.OnQueueReady is null)
        {
            return;
        }
        Invoke(root, _exports.OnQueueReady, root.Id, (int)queueId);
        RunDeferred();
    }

    private bool TakePending(uint token, out PendingCall call)
    {
        call = null!;
        return !Failed && PendingCalls.TryTake(token, out call);
    }
}
