namespace Gateway.Plugins.Runtime;

/// <summary>
/// A route's chain of plugins as one worker resolved it: the plugins its names stand for, in order, and the VM slot
/// of each on that worker. The plugins array is shared by every stream of the route; streams never write it.
/// </summary>
internal sealed class ResolvedChain(PluginDefinition[] plugins, VmSlot[] slots)
{
    public PluginDefinition[] Plugins { get; } = plugins;

    public VmSlot[] Slots { get; } = slots;
}
