namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The callout connection pools of one cluster, one per endpoint (by endpoint index), held by every config generation
/// whose cluster is unchanged: the generation that made them, and each next one built while they are held. So a reload
/// that leaves the cluster as it was keeps its idle connections, as Envoy keeps an unchanged cluster's pools. Each
/// idle connection sits in one pool's set, and a call takes it out alone; a call in flight on the replaced generation
/// gives its connection back to the same pool, now the next generation's. They close once the last holder lets go,
/// whatever calls are still in flight on them: those close their connections when they end.
/// </summary>
internal sealed class CalloutPools
{
    private readonly CalloutConnectionPool[] _pools;
    private int _holders = 1;

    /// <summary>Pools for <paramref name="endpoints"/> endpoints, held by the generation that makes them.</summary>
    public CalloutPools(int endpoints, int capacity, long idleTimeoutMs)
    {
        _pools = new CalloutConnectionPool[endpoints];
        for (int e = 0; e < endpoints; e++)
        {
            _pools[e] = new CalloutConnectionPool(capacity, idleTimeoutMs);
        }
    }

    public CalloutConnectionPool this[int endpoint] => _pools[endpoint];

    /// <summary>
    /// Holds them for one more generation; false once the last holder let go (they are closed). The reload that takes
    /// them runs while the running generation still holds them, so it finds them open unless the gateway is stopping.
    /// </summary>
    public bool TryHold()
    {
        lock (_pools)
        {
            if (_holders == 0)
            {
                return false;
            }
            _holders++;
            return true;
        }
    }

    /// <summary>One generation lets go: a refused reload's as well as a retired one's; the last closes the pools.</summary>
    public void Release()
    {
        lock (_pools)
        {
            if (--_holders > 0)
            {
                return;
            }
        }
        foreach (CalloutConnectionPool pool in _pools)
        {
            pool.Dispose();
        }
    }

    public void CloseExpired()
    {
        foreach (CalloutConnectionPool pool in _pools)
        {
            pool.CloseExpired();
        }
    }
}
