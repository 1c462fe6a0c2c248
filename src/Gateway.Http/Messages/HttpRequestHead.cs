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

    private readonly HeaderCollection _headers = new();
    private IDeferredFields? _deferred;
    // Fields added while others are deferred: they follow those, so they wait with them. Made once per connection.
    private HeaderCollection? _afterDeferred;

    /// <summary>
    /// Fields other than those the parser consumed for framing (Content-Length, Transfer-Encoding, Host); fields the
    /// gateway deferred (<see cref="Defer"/>) become fields here, after the others, on first reading, followed by those
    /// added meanwhile (<see cref="TryAddAfterDeferred"/>).
    /// </summary>
    public HeaderCollection Headers
    {
        get
        {
            if (_deferred is not null)
            {
                MakeDeferredFields();
            }
            return _headers;
        }
    }

    /// <summary>How many fields <see cref="Headers"/> has, deferred ones included, without making those fields.</summary>
    public int FieldCount => _headers.Count + (_deferred is null ? 0 : _deferred.Count + (_afterDeferred?.Count ?? 0));

    /// <summary>Whether some fields are still deferred: <see cref="Headers"/> has not been read since <see cref="Defer"/>.</summary>
    public bool HasDeferredFields => _deferred is not null;

    /// <summary>Bytes the deferred fields take as written ("name: value" CRLF each); 0 when none are deferred.</summary>
    public int DeferredBytes => _deferred?.Bytes ?? 0;

    /// <summary>
    /// The fields without the deferred ones while they still are deferred: for a writer that writes those from their
    /// own lines, then <see cref="FieldsAfterDeferred"/>. Nothing may be added here; fields change through <see cref="Headers"/>.
    /// </summary>
    public HeaderCollection FieldsBeforeDeferred => _headers;

    /// <summary>The fields added after the deferred ones while those still are deferred (null otherwise), for the writer.</summary>
    public HeaderCollection? FieldsAfterDeferred => _deferred is null ? null : _afterDeferred;

    /// <summary>
    /// Counts <paramref name="fields"/> among the head's fields from now on, but makes them fields only when something
    /// reads <see cref="Headers"/>; until then the writer writes them from their own lines.
    /// </summary>
    public void Defer(IDeferredFields fields) => _deferred = fields;

    /// <summary>
    /// Adds a field (a lower-case name, a checked value) after the deferred fields without making them fields; false
    /// when none are deferred: add it to <see cref="Headers"/>.
    /// </summary>
    public bool TryAddAfterDeferred(string name, string value)
    {
        if (_deferred is null)
        {
            return false;
        }
        (_afterDeferred ??= new()).Add(name, value);
        return true;
    }

    // Apart from the getter, which stays small enough to inline: the parser and the writer read Headers on every request.
    private void MakeDeferredFields()
    {
        var deferred = _deferred!;
        _deferred = null;
        deferred.AddTo(_headers);
        if (_afterDeferred is { Count: > 0 } after)
        {
            for (int i = 0; i < after.Count; i++)
            {
                _headers.Add(after[i].Key, after[i].Value);
            }
            after.Clear();
        }
    }

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
        _deferred = null;
        _afterDeferred?.Clear();
        _headers.Clear();
        Framing = BodyFraming.None;
        ContentLength = 0;
        KeepAlive = true;
        ExpectContinue = false;
        MayHoldHopByHopFields = true;
    }
}
