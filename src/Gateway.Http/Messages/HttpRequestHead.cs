namespace Gateway.Http.Messages;

/// <summary>
/// A validated request head (P-1: parse, validate, rebuild). The proxy never forwards client bytes
/// verbatim; it serializes this model. Instances are reused per connection: <see cref="Reset"/> clears one.
/// </summary>
public sealed class HttpRequestHead
{
    public string Method { get; set; } = "";

    /// <summary>The target in origin-form (<c>/path?query</c>); absolute-form targets are reduced to it.</summary>
    public string Target { get; set; } = "";

    /// <summary>The effective authority (H-4, H-5): validated, lower case, with port when one was given.</summary>
    public string Authority { get; set; } = "";

    public string Scheme { get; set; } = "http";

    /// <summary>Minor version of HTTP/1.x the client spoke (0 or 1).</summary>
    public int MinorVersion { get; set; } = 1;

    /// <summary>Fields other than those the parser consumed for framing (Content-Length, Transfer-Encoding, Host).</summary>
    public HeaderCollection Headers { get; } = new();

    public BodyFraming Framing { get; set; }

    /// <summary>Body length when <see cref="Framing"/> is <see cref="BodyFraming.ContentLength"/>.</summary>
    public long ContentLength { get; set; }

    /// <summary>Whether the client asked to keep the connection open after this exchange (RFC 9112 §9.3).</summary>
    public bool KeepAlive { get; set; } = true;

    /// <summary>The request carried <c>Expect: 100-continue</c> (RFC 9110 §10.1.1).</summary>
    public bool ExpectContinue { get; set; }

    /// <summary>
    /// Whether the head may hold hop-by-hop fields (HOP-1, HOP-2) for the forwarder to remove: true until a parser
    /// finds none, so a head built any other way is always cleaned.
    /// </summary>
    public bool MayHoldHopByHopFields { get; internal set; } = true;

    /// <summary>
    /// The Host value of this connection's last request, as validated (lower case). Clients repeat their Host on every
    /// request of a connection, so the parser takes identical bytes as this same authority instead of validating them
    /// again. Kept across <see cref="Reset"/>.
    /// </summary>
    internal string? PreviousHost { get; set; }

    /// <summary>The path part of <see cref="Target"/>, without the query.</summary>
    public ReadOnlySpan<char> Path
    {
        get
        {
            int q = Target.IndexOf('?');
            return q < 0 ? Target.AsSpan() : Target.AsSpan(0, q);
        }
    }

    public void Reset()
    {
        Method = "";
        Target = "";
        Authority = "";
        Scheme = "http";
        MinorVersion = 1;
        Headers.Clear();
        Framing = BodyFraming.None;
        ContentLength = 0;
        KeepAlive = true;
        ExpectContinue = false;
        MayHoldHopByHopFields = true;
    }
}
