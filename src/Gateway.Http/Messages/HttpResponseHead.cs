namespace Gateway.Http.Messages;

/// <summary>A validated response head from an upstream, rebuilt before it goes to the client.</summary>
public sealed class HttpResponseHead
{
    public int StatusCode { get; set; }

    public string ReasonPhrase { get; set; } = "";

    public int MinorVersion { get; set; } = 1;

    /// <summary>Fields other than the framing fields (Content-Length, Transfer-Encoding) the parser consumed.</summary>
    public HeaderCollection Headers { get; } = new();

    public BodyFraming Framing { get; set; }

    public long ContentLength { get; set; }

    /// <summary>Whether the upstream connection may be reused after this response.</summary>
    public bool KeepAlive { get; set; } = true;

    public void Reset()
    {
        StatusCode = 0;
        ReasonPhrase = "";
        MinorVersion = 1;
        Headers.Clear();
        Framing = BodyFraming.None;
        ContentLength = 0;
        KeepAlive = true;
    }
}
