namespace Gateway.Plugins.Shared;

/// <summary>
/// The process-wide key-value store of docs/proxy-wasm.md, 'Other imports', keyed by (namespace, key), shared by every worker. A namespace is a
/// vmId plugins share on purpose, or one plugin's own. CAS versions come from one counter that starts at 1, advances
/// on every successful set and skips 0 (Envoy <c>shared_data.cc</c>). Each namespace holds at most the bytes its
/// plugin's limits allow, so a plugin writing ever new keys cannot grow the host without bound.
/// </summary>
internal sealed class SharedData
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Namespace, string Key), (byte[] Value, uint Cas)> _entries = [];
    private readonly Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private uint _nextCas = 1;

    public bool TryGet(string ns, string key, out byte[] value, out uint cas)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue((ns, key), out var entry))
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
    /// entry's current version, except that a missing key is inserted anyway (docs/proxy-wasm.md, 'Other imports'). Refused when the namespace
    /// would hold more than <paramref name="maxBytes"/> of keys and values.
    /// </summary>
    public SharedDataResult TrySet(string ns, string key, byte[] value, uint cas, long maxBytes)
    {
        lock (_lock)
        {
            bool exists = _entries.TryGetValue((ns, key), out var entry);
            if (cas != 0 && exists && entry.Cas != cas)
            {
                return SharedDataResult.CasMismatch;
            }
            long held = _bytes.GetValueOrDefault(ns);
            long after = held - (exists ? key.Length + entry.Value.Length : 0) + key.Length + value.Length;
            if (after > maxBytes && after > held)
            {
                return SharedDataResult.Full;
            }
            uint next = _nextCas;
            _nextCas = next == uint.MaxValue ? 1 : next + 1;
            _entries[(ns, key)] = (value, next);
            _bytes[ns] = after;
            return SharedDataResult.Stored;
        }
    }
}

internal enum SharedDataResult
{
    Stored,
    CasMismatch,
    Full,
}
