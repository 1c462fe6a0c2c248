namespace Gateway.Plugins.Contexts;

/// <summary>The phases of one exchange through a plugin chain, in the order they run.</summary>
internal enum StreamPhase
{
    RequestHeaders,
    RequestBody,
    RequestTrailers,
    ResponseHeaders,
    ResponseBody,
    ResponseTrailers,
}
