namespace Gateway.Http.Messages;

/// <summary>A validated response head from an upstream, rebuilt before it goes to the client.</summary>
public sealed class HttpResponseHead
{
    private readonly HeaderCollection _headers = new();
    // A head parsed for forwarding keeps its fields as the lines the gateway writes until someone reads Headers.
    private FieldLineBytes? _lines;
    private bool _holdsLines;

    public int StatusCode { get; set; }

    public string ReasonPhrase { get; set; } = "";

    public int MinorVersion { get; set; } = 1;

    /// <summary>
    /// Fields other than the framing fields (Content-Length, Transfer-Encoding) the parser consumed. For a head parsed
    /// for forwarding, made on first reading from its field lines, which then no longer stand for the head.
    /// </summary>
    public HeaderCollection Headers
    {
        get
        {
            if (_holdsLines)
            {
                _holdsLines = false;
                _lines!.AddTo(_headers);
            }
            return _headers;
        }
    }

    /// <summary>
    /// Whether the fields are still only the field lines of a head parsed for forwarding: its hop-by-hop fields already
    /// gone, every other field in <see cref="FieldLines"/>.
    /// </summary>
    public bool HoldsFieldLines => _holdsLines;

    /// <summary>The field lines as the gateway writes them ("name: value" CRLF each) while <see cref="HoldsFieldLines"/>.</summary>
    public ReadOnlySpan<byte> FieldLines => _holdsLines ? _lines!.Written : default;

    /// <summary>How many fields <see cref="Headers"/> has, counted without reading held field lines as strings.</summary>
    public int FieldCount => _holdsLines ? _lines!.Count : _headers.Count;

    /// <summary>
    /// Appends a field (a lower-case token name, a checked value) to the held field lines, so that adding one does not
    /// read the others as strings. False when the head holds no lines or they are full: add it to <see cref="Headers"/>.
    /// </summary>
    public bool TryAddFieldLine(string name, string value) => _holdsLines && _lines!.TryAppend(name, value);

    public BodyFraming Framing { get; set; }

    public long ContentLength { get; set; }

    /// <summary>Whether the upstream connection may be reused after this response.</summary>
    public bool KeepAlive { get; set; } = true;

    public void Reset()
    {
        StatusCode = 0;
        ReasonPhrase = "";
        MinorVersion = 1;
        _holdsLines = false;
        _headers.Clear();
        Framing = BodyFraming.None;
        ContentLength = 0;
        KeepAlive = true;
    }

    /// <summary>Starts keeping the fields as lines; the head must have been reset.</summary>
    internal FieldLineBytes BeginFieldLines()
    {
        _lines ??= new FieldLineBytes();
        _lines.Clear();
        _holdsLines = true;
        return _lines;
    }
}
