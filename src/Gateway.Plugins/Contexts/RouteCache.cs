namespace Gateway.Plugins.Contexts;

/// <summary>
/// Whether the proxy must route the request again (docs/proxy-wasm.md, 'Header maps'): a plugin changed the request
/// headers, unless one turned that off with the Higress <c>clear_route_cache = off</c> property, or a plugin called
/// <c>proxy_clear_route_cache</c>. A struct inside its stream (reached by reference), so a stream costs no object for it.
/// </summary>
internal struct RouteCache
{
    private bool _requestHeadersChanged;
    private bool _cleared;
    private bool _kept;

    public readonly bool Invalidated => _cleared || (_requestHeadersChanged && !_kept);

    public void OnRequestHeadersChanged() => _requestHeadersChanged = true;

    /// <summary><c>proxy_clear_route_cache</c>.</summary>
    public void Clear() => _cleared = true;

    /// <summary>The Higress <c>clear_route_cache = off</c> property: header changes no longer re-route.</summary>
    public void Keep() => _kept = true;

    /// <summary>The route the request now matches was taken: later header changes may re-route it again.</summary>
    public void Accept()
    {
        _requestHeadersChanged = false;
        _cleared = false;
    }
}
