namespace Gateway.Http.Messages;

/// <summary>How a message body is delimited on the wire (RFC 9112 §6).</summary>
public enum BodyFraming : byte
{
    /// <summary>No body: no Content-Length and no Transfer-Encoding on a request, or a HEAD/1xx/204/304 response.</summary>
    None,
    /// <summary>Exactly <c>ContentLength</c> octets follow.</summary>
    ContentLength,
    /// <summary>Transfer-Encoding: chunked, possibly followed by trailers.</summary>
    Chunked,
    /// <summary>Response only: the body runs until the upstream closes the connection.</summary>
    CloseDelimited,
}
