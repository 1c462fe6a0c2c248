namespace Gateway.Plugins.Sandbox;

/// <summary>What the host does with one header write of a plugin.</summary>
internal enum HeaderVerdict
{
    /// <summary>Valid: written.</summary>
    Write,

    /// <summary>A framing field: accepted and dropped, the HTTP layer frames the message itself.</summary>
    Ignore,

    /// <summary>Bad syntax, a hop-by-hop field or a pseudo-header value the gateway cannot send: BAD_ARGUMENT.</summary>
    Invalid,

    /// <summary>The head would grow past limits.maxHeaderCount or limits.maxHeaderBytes: BAD_ARGUMENT, counted.</summary>
    TooLarge,
}
