namespace Gateway.Plugins;

/// <summary>
/// The process-wide key-value store of docs/proxy-wasm.md, 'Other imports', keyed by (vm_id, key), shared by every worker. CAS versions come
/// from one counter that starts at 1, advances on every successful set and skips 0 (Envoy <c>shared_data.cc</c>).
/// </summary>
internal sealed class SharedData
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string VmId, string Key), (byte[] Value, uint Cas)> _entries = [];
    private uint _nextCas = 1;

    public bool TryGet(string vmId, string key, out byte[] value, out uint cas)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue((vmId, key), out var entry))
            {
                (value, cas) = entry;
                return true;
            }
        }
        value = [];
        cas = 0;
        return false;
    }

    /// <summary>
    /// Stores <paramref name="value"/>. <paramref name="cas"/> 0 is unconditional; otherwise it must match the
    /// entry's current version, except that a missing key is inserted anyway (docs/proxy-wasm.md, 'Other imports').
    /// </summary>
    public bool TrySet(string vmId, string key, byte[] value, uint cas)
    {
        lock (_lock)
        {
            if (cas != 0 && _entries.TryGetValue((vmId, key), out var entry) && entry.Cas != cas)
            {
                return false;
            }
            uint next = _nextCas;
            _nextCas = next == uint.MaxValue ? 1 : next + 1;
            _entries[(vmId, key)] = (value, next);
            return true;
        }
    }
}
