using System.Collections.Concurrent;

namespace Gateway.Plugins;

/// <summary>
/// Process-wide shared queues (docs/proxy-wasm.md, 'Other imports'), addressed by (vm_id, name). The last registration owns the ready
/// notification, which is posted to the owner's worker and delivered to its root context there.
/// </summary>
internal sealed class SharedQueues
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string VmId, string Name), SharedQueue> _byName = [];
    private readonly Dictionary<uint, SharedQueue> _byId = [];
    private uint _nextId = 1;

    public uint Register(string vmId, string name, RootContext owner)
    {
        lock (_lock)
        {
            if (!_byName.TryGetValue((vmId, name), out var queue))
            {
                queue = new SharedQueue(_nextId++);
                _byName.Add((vmId, name), queue);
                _byId.Add(queue.Id, queue);
            }
            queue.Owner = owner;
            return queue.Id;
        }
    }

    public bool TryResolve(string vmId, string name, out uint id)
    {
        lock (_lock)
        {
            if (_byName.TryGetValue((vmId, name), out var queue))
            {
                id = queue.Id;
                return true;
            }
        }
        id = 0;
        return false;
    }

    public bool Enqueue(uint id, byte[] item)
    {
        SharedQueue? queue;
        RootContext? owner;
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out queue))
            {
                return false;
            }
            owner = queue.Owner;
        }
        queue.Items.Enqueue(item);
        // Delivered later on the owner's worker, never inside the enqueuing import (docs/proxy-wasm.md, 'Calls that wait').
        owner?.Vm.Loop.Post(static s =>
        {
            var (root, queueId) = ((RootContext, uint))s!;
            root.Vm.DeliverQueueReady(root, queueId);
        }, (owner, id));
        return true;
    }

    /// <summary>Removes the head item; null when the queue is empty. False when the id is unknown.</summary>
    public bool TryDequeue(uint id, out byte[]? item)
    {
        SharedQueue? queue;
        lock (_lock)
        {
            _byId.TryGetValue(id, out queue);
        }
        item = null;
        if (queue is null)
        {
            return false;
        }
        queue.Items.TryDequeue(out item);
        return true;
    }

    /// <summary>A deleted root or discarded VM no longer receives notifications (docs/proxy-wasm.md, 'Contexts and callbacks' C3).</summary>
    public void DropRegistrations(PluginVm vm, RootContext root)
    {
        lock (_lock)
        {
            foreach (var queue in _byId.Values)
            {
                if (queue.Owner == root && root.Vm == vm)
                {
                    queue.Owner = null;
                }
            }
        }
    }

    private sealed class SharedQueue(uint id)
    {
        public uint Id { get; } = id;

        public RootContext? Owner { get; set; }

        public ConcurrentQueue<byte[]> Items { get; } = new();
    }
}
