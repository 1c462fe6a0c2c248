namespace Gateway.Configuration;

/// <summary>
/// Value equality for the collections inside config records, which the compiler-generated record
/// equality compares by reference. A reload uses it to keep what did not change (pools, VMs).
/// </summary>
internal static class ConfigEquality
{
    public static bool Lists<T>(IReadOnlyList<T> a, IReadOnlyList<T> b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.Count != b.Count)
        {
            return false;
        }

        var comparer = EqualityComparer<T>.Default;
        for (var i = 0; i < a.Count; i++)
        {
            if (!comparer.Equals(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    public static bool Maps<T>(IReadOnlyDictionary<string, T> a, IReadOnlyDictionary<string, T> b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.Count != b.Count)
        {
            return false;
        }

        var comparer = EqualityComparer<T>.Default;
        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !comparer.Equals(value, other))
            {
                return false;
            }
        }

        return true;
    }

    public static int ListHash<T>(IReadOnlyList<T> list)
    {
        var hash = new HashCode();
        for (var i = 0; i < list.Count; i++)
        {
            hash.Add(list[i]);
        }

        return hash.ToHashCode();
    }

    /// <summary>Order-independent, as map equality is.</summary>
    public static int MapHash<T>(IReadOnlyDictionary<string, T> map)
    {
        var hash = map.Count;
        foreach (var (key, value) in map)
        {
            hash ^= HashCode.Combine(key, value);
        }

        return hash;
    }
}
