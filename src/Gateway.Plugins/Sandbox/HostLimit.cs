namespace Gateway.Plugins.Sandbox;

/// <summary>The bounds the host holds a plugin to; each refusal is counted under its label.</summary>
internal enum HostLimit
{
    HeaderSyntax,
    HeaderSize,
    BodySize,
    SharedData,
    SharedQueue,
    HttpCalls,
    HostCallBytes,
    Metrics,
}

internal static class HostLimits
{
    public const int Count = (int)HostLimit.Metrics + 1;

    /// <summary>The <c>limit</c> label of <c>gateway_plugin_refusals_total</c>.</summary>
    public static string Label(HostLimit limit) => limit switch
    {
        HostLimit.HeaderSyntax => "header_syntax",
        HostLimit.HeaderSize => "header_size",
        HostLimit.BodySize => "body_size",
        HostLimit.SharedData => "shared_data",
        HostLimit.SharedQueue => "shared_queue",
        HostLimit.HttpCalls => "http_calls",
        HostLimit.HostCallBytes => "host_call_bytes",
        _ => "metrics",
    };
}
