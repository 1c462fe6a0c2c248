using Gateway.Backends.Redis;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Host;

/// <summary>
/// Hands a plugin's Redis reply to its VM: frees the plugin's in-flight slot and posts the delivery to the VM's
/// worker, so the guest is never entered from inside the import that started the call.
/// </summary>
internal sealed class RedisHostCompletion : RedisCallCompletion
{
    private static readonly SendOrPostCallback Deliver = static s =>
    {
        var completion = (RedisHostCompletion)s!;
        completion._vm.DeliverRedisReply(completion._token, completion._reply);
    };

    private readonly PluginVm _vm;
    private readonly PluginDefinition _plugin;
    private readonly uint _token;
    private RedisReply _reply;

    public RedisHostCompletion(PluginVm vm, PluginDefinition plugin, uint token)
    {
        _vm = vm;
        _plugin = plugin;
        _token = token;
    }

    public override void OnReply(RedisReply reply)
    {
        _reply = reply;
        _plugin.EndBackendCall();
        _vm.Loop.Post(Deliver, this);
    }
}
