using System.Collections.Concurrent;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Shared;

/// <summary>
/// Process-wide shared queues (docs/proxy-wasm.md, 'Other imports'), addressed by (namespace, name); a namespace is a shared vmId or one
/// plugin's own. The last registration owns the ready notification, which is posted to the owner's worker and
/// delivered to its root context there. Only the namespace that registered a queue dequeues from it (as Envoy);
/// others may enqueue only into queues of a vmId, which they can name, never into a plugin's private queue. The
/// items a namespace's queues hold are bounded in bytes.
/// </summary>
internal sealed class SharedQueues
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Namespace, string Name), SharedQueue> _byName = [];
    private readonly Dictionary<uint, SharedQueue> _byId = [];
    private readonly Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private uint _nextId = 1;

    public uint Register(string ns, string name, RootContext owner)
    {
        lock (_lock)
        {
            if (!_byName.TryGetValue((ns, name), out var queue))
            {
                queue = new SharedQueue(_nextId++, ns);
                _byName.Add((ns, name), queue);
                _byId.Add(queue.Id, queue);
            }
            queue.Owner = owner;
            return queue.Id;
        }
    }

    public bool TryResolve(string ns, string name, out uint id)
    {
        lock (_lock)
        {
            if (_byName.TryGetValue((ns, name), out var queue))
            {
                id = queue.Id;
                return true;
            }
        }
        id = 0;
        return false;
    }

    /// <summary>Adds an item for the queue's owner. <paramref name="maxBytes"/> bounds what the queue's namespace holds.</summary>
    public QueueResult Enqueue(string callerNamespace, uint id, byte[] item, long maxBytes)
    {
        SharedQueue? queue;
        RootContext? owner;
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out queue) || !MayEnqueue(queue, callerNamespace))
            {
                return QueueResult.NotFound;
            }
            long held = _bytes.GetValueOrDefault(queue.Namespace);
            if (held + item.Length > maxBytes)
            {
                return QueueResult.Full;
            }
            _bytes[queue.Namespace] = held + item.Length;
            owner = queue.Owner;
            queue.Items.Enqueue(item);
        }
        // Delivered later on the owner's worker, never inside the enqueuing import (docs/proxy-wasm.md, 'Calls that wait').
        owner?.Vm.Loop.Post(static s =>
        {
            var (root, queueId) = ((RootContext, uint))s!;
            root.Vm.DeliverQueueReady(root, queueId);
        }, (owner, id));
        return QueueResult.Done;
    }

    /// <summary>Removes the head item (null when the queue is empty). NotFound when the id is unknown or not the caller's.</summary>
    public QueueResult TryDequeue(string callerNamespace, uint id, out byte[]? item)
    {
        item = null;
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out var queue) || queue.Namespace != callerNamespace)
            {
                return QueueResult.NotFound;
            }
            if (queue.Items.TryDequeue(out item))
            {
                _bytes[queue.Namespace] -= item.Length;
            }
            return QueueResult.Done;
        }
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

    /// <summary>The owner, or anyone for a queue of a shared vmId (nameable through proxy_resolve_shared_queue).</summary>
    private static bool MayEnqueue(SharedQueue queue, string callerNamespace) =>
        queue.Namespace == callerNamespace || queue.Namespace[0] != '\0';

    private sealed class SharedQueue(uint id, string ns)
    {
        public uint Id { get; } = id;

        public string Namespace { get; } = ns;

        public RootContext? Owner { get; set; }

        public ConcurrentQueue<byte[]> Items { get; } = new();
    }
}

internal enum QueueResult
{
    Done,
    NotFound,
    Full,
}
