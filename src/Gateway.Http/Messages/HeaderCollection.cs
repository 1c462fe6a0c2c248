namespace Gateway.Http.Messages;

/// <summary>
/// An ordered list of header fields. Names are stored in lower case (HTTP field names are
/// case-insensitive, RFC 9110 §5.1, and proxy-wasm plugins expect lower case as Envoy gives them);
/// values are stored as Latin-1 strings so obs-text octets survive byte for byte.
/// Repeated names keep their relative order (RFC 9110 §5.3).
/// </summary>
public sealed class HeaderCollection
{
    private KeyValuePair<string, string>[] _fields = new KeyValuePair<string, string>[16];
    private int _count;

    public int Count => _count;

    public KeyValuePair<string, string> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count);
            return _fields[index];
        }
    }

    /// <summary>Appends a field; <paramref name="name"/> must already be lower case.</summary>
    public void Add(string name, string value)
    {
        if (_count == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }
        _fields[_count++] = new KeyValuePair<string, string>(name, value);
    }

    /// <summary>The first value of <paramref name="name"/>, or null.</summary>
    public string? Get(string name)
    {
        int i = IndexOf(name, 0);
        return i < 0 ? null : _fields[i].Value;
    }

    public bool Contains(string name) => IndexOf(name, 0) >= 0;

    /// <summary>Index of the next field named <paramref name="name"/> at or after <paramref name="start"/>, or -1.</summary>
    public int IndexOf(string name, int start)
    {
        for (int i = start; i < _count; i++)
        {
            if (IsNamed(_fields[i].Key, name))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Replaces every field named <paramref name="name"/> with one field, keeping the first one's position.</summary>
    public void Set(string name, string value)
    {
        int first = IndexOf(name, 0);
        if (first < 0)
        {
            // The gateway's own names are constants in lower case already: only a plugin's may need the copy.
            Add(name.AsSpan().ContainsAnyInRange('A', 'Z') ? name.ToLowerInvariant() : name, value);
            return;
        }
        _fields[first] = new KeyValuePair<string, string>(_fields[first].Key, value);
        RemoveFrom(name, first + 1);
    }

    /// <summary>Removes every field named <paramref name="name"/>; returns how many were removed.</summary>
    public int Remove(string name) => RemoveFrom(name, 0);

    /// <summary>Removes, in one pass, every field whose (lower-case) name <paramref name="matches"/>.</summary>
    public void RemoveWhere(Func<string, bool> matches)
    {
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (!matches(_fields[i].Key))
            {
                Keep(i, kept++);
            }
        }
        Truncate(kept);
    }

    public void RemoveAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count);
        _count--;
        Array.Copy(_fields, index + 1, _fields, index, _count - index);
        _fields[_count] = default;
    }

    public void Clear()
    {
        // Heads are cleared by their reader and again by their parser, and trailers are almost always empty: the
        // second and most clears find nothing, and skip the call.
        if (_count > 0)
        {
            Array.Clear(_fields, 0, _count);
            _count = 0;
        }
    }

    private int RemoveFrom(string name, int start)
    {
        int kept = start;
        for (int i = start; i < _count; i++)
        {
            if (!IsNamed(_fields[i].Key, name))
            {
                Keep(i, kept++);
            }
        }
        int removed = _count - kept;
        Truncate(kept);
        return removed;
    }

    /// <summary>Field names match in any case; most fields differ in length from the name sought, and cost no more.</summary>
    private static bool IsNamed(string key, string name) =>
        key.Length == name.Length && string.Equals(key, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Moves a kept field down over removed ones; one that has not moved is not stored again (two GC write barriers).</summary>
    private void Keep(int from, int to)
    {
        if (from != to)
        {
            _fields[to] = _fields[from];
        }
    }

    private void Truncate(int count)
    {
        if (count < _count)
        {
            Array.Clear(_fields, count, _count - count);
            _count = count;
        }
    }
}
