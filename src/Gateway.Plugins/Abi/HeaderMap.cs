using System.Globalization;
using Gateway.Http;
using Gateway.Http.Messages;
using Gateway.Plugins.Sandbox;

namespace Gateway.Plugins.Abi;

/// <summary>
/// A proxy-wasm header map over the gateway's HTTP/1.1 message model (docs/proxy-wasm.md, 'Header maps'): request heads show
/// <c>:method :scheme :authority :path</c>, response heads <c>:status</c>, before the ordinary fields.
/// <c>content-length</c> is shown but owned by the HTTP layer, which recomputes framing on the way out. Counting the
/// fields keeps a response head's field lines and a request head's deferred fields as they are, as does adding a
/// field; anything else makes them fields first (<see cref="HttpResponseHead.Headers"/>,
/// <see cref="HttpRequestHead.Headers"/>), so every map shows what the head holds, in order.
/// </summary>
internal readonly struct HeaderMap
{
    private readonly HttpRequestHead? _request;
    private readonly HttpResponseHead? _response;
    // Null for a message head: its fields are read through it, and only when needed.
    private readonly HeaderCollection? _fields;

    public HeaderMap(HttpRequestHead request, bool readOnly)
    {
        _request = request;
        ReadOnly = readOnly;
    }

    public HeaderMap(HttpResponseHead response, bool readOnly)
    {
        _response = response;
        ReadOnly = readOnly;
    }

    public HeaderMap(HeaderCollection fields, bool readOnly)
    {
        _fields = fields;
        ReadOnly = readOnly;
    }

    /// <summary>The fields; a head's field lines or deferred fields become strings now.</summary>
    private HeaderCollection? Fields => _request is not null ? _request.Headers : _response is not null ? _response.Headers : _fields;

    public bool Exists => _fields is not null || _request is not null || _response is not null;

    public bool ReadOnly { get; }

    public int Count
    {
        get
        {
            if (_response is not null)
            {
                return _response.FieldCount + (_response.Framing == BodyFraming.ContentLength ? 2 : 1);
            }
            if (_request is not null)
            {
                return _request.FieldCount + (_request.Framing == BodyFraming.ContentLength ? 5 : 4);
            }
            return _fields?.Count ?? 0;
        }
    }

    public void CopyTo(List<KeyValuePair<string, string>> pairs)
    {
        pairs.Clear();
        var fields = Fields;
        if (fields is null)
        {
            return;
        }
        if (_request is not null)
        {
            pairs.Add(new(":method", _request.Method));
            pairs.Add(new(":scheme", _request.Scheme));
            pairs.Add(new(":authority", _request.Authority));
            pairs.Add(new(":path", _request.Target));
            if (_request.Framing == BodyFraming.ContentLength)
            {
                pairs.Add(new("content-length", _request.ContentLength.ToString(CultureInfo.InvariantCulture)));
            }
        }
        else if (_response is not null)
        {
            pairs.Add(new(":status", _response.StatusCode.ToString(CultureInfo.InvariantCulture)));
            if (_response.Framing == BodyFraming.ContentLength)
            {
                pairs.Add(new("content-length", _response.ContentLength.ToString(CultureInfo.InvariantCulture)));
            }
        }
        for (int i = 0; i < fields.Count; i++)
        {
            pairs.Add(fields[i]);
        }
    }

    /// <summary>First value of <paramref name="name"/> (lower case), as Envoy returns it (docs/proxy-wasm.md, 'Header maps').</summary>
    public string? Get(string name)
    {
        if (_request is not null)
        {
            switch (name)
            {
                case ":method": return _request.Method;
                case ":scheme": return _request.Scheme;
                case ":authority": return _request.Authority;
                case ":path": return _request.Target;
                case "content-length":
                    return _request.Framing == BodyFraming.ContentLength
                        ? _request.ContentLength.ToString(CultureInfo.InvariantCulture) : null;
            }
        }
        else if (_response is not null)
        {
            switch (name)
            {
                case ":status": return _response.StatusCode.ToString(CultureInfo.InvariantCulture);
                case "content-length":
                    return _response.Framing == BodyFraming.ContentLength
                        ? _response.ContentLength.ToString(CultureInfo.InvariantCulture) : null;
            }
        }
        return Fields?.Get(name);
    }

    /// <summary>Adds a field after <see cref="HeaderWriteRules"/> accepted it; nothing is written otherwise.</summary>
    public HeaderVerdict Add(string name, string value, HttpLimits limits)
    {
        if (_response is { HoldsFieldLines: true } held)
        {
            // Lines the gateway writes, and "name: value" CRLF is what the limits count for a field.
            var added = HeaderWriteRules.CheckAdded(null, held, held.FieldCount, held.FieldLines.Length, name, value, limits);
            if (added == HeaderVerdict.Write && !TrySetPseudo(name, value) && !held.TryAddFieldLine(name, value))
            {
                held.Headers.Add(name, value);
            }
            return added;
        }
        if (_request is { HasDeferredFields: true } request)
        {
            // The deferred fields stay lines: the added one follows them.
            var fields = request.FieldsBeforeDeferred;
            long bytes = HeaderWriteRules.ByteSize(fields) + request.DeferredBytes
                + (request.FieldsAfterDeferred is { } after ? HeaderWriteRules.ByteSize(after) : 0);
            var added = HeaderWriteRules.CheckAdded(request, null, request.FieldCount, bytes, name, value, limits);
            if (added == HeaderVerdict.Write && !TrySetPseudo(name, value) && !request.TryAddAfterDeferred(name, value))
            {
                request.Headers.Add(name, value);
            }
            return added;
        }
        var verdict = HeaderWriteRules.Check(_request, _response, Fields!, name, value, replace: false, limits);
        if (verdict == HeaderVerdict.Write && !TrySetPseudo(name, value))
        {
            Fields!.Add(name, value);
        }
        return verdict;
    }

    public HeaderVerdict Replace(string name, string value, HttpLimits limits)
    {
        var verdict = HeaderWriteRules.Check(_request, _response, Fields!, name, value, replace: true, limits);
        if (verdict == HeaderVerdict.Write && !TrySetPseudo(name, value))
        {
            Fields!.Set(name, value);
        }
        return verdict;
    }

    public void Remove(string name)
    {
        // Pseudo-headers and framing fields cannot be removed from an HTTP/1.1 message; the line stays.
        if (name.Length > 0 && name[0] != ':' && name != "content-length")
        {
            Fields!.Remove(name);
        }
    }

    /// <summary>Replaces every field with <paramref name="pairs"/> when all of them are valid, else changes nothing.</summary>
    public HeaderVerdict ReplaceAll(List<KeyValuePair<string, string>> pairs, HttpLimits limits)
    {
        for (int i = 0; i < pairs.Count; i++)
        {
            pairs[i] = new(pairs[i].Key.ToLowerInvariant(), pairs[i].Value);
        }
        var fields = Fields!;
        var verdict = HeaderWriteRules.CheckAll(_request, _response, fields, pairs, limits);
        if (verdict != HeaderVerdict.Write)
        {
            return verdict;
        }
        fields.Clear();
        foreach (var (name, value) in pairs)
        {
            if (!TrySetPseudo(name, value) && !FieldRules.IsFraming(name))
            {
                fields.Add(name, value);
            }
        }
        return verdict;
    }

    /// <summary>Sum of the bytes of every name and value, as Envoy computes <c>proxy_get_header_map_size</c>.</summary>
    public int ByteSize(List<KeyValuePair<string, string>> scratch)
    {
        CopyTo(scratch);
        int size = 0;
        foreach (var (name, value) in scratch)
        {
            size += name.Length + value.Length;
        }
        return size;
    }

    /// <summary>Maps writes of pseudo-headers onto the message model; framing fields are the HTTP layer's. Values are already checked.</summary>
    private bool TrySetPseudo(string name, string value)
    {
        if (_request is not null)
        {
            switch (name)
            {
                case ":method": _request.Method = value; return true;
                case ":scheme": _request.Scheme = value; return true;
                case ":authority": case "host": _request.Authority = value; return true;
                case ":path": _request.Target = value; return true;
                case "content-length": case "transfer-encoding": return true;
            }
        }
        else if (_response is not null)
        {
            switch (name)
            {
                case ":status":
                    if (FieldRules.TryParseStatus(value, out int status))
                    {
                        _response.StatusCode = status;
                        _response.ReasonPhrase = "";
                    }
                    return true;
                case "content-length": case "transfer-encoding": return true;
            }
        }
        return name.Length > 0 && name[0] == ':';
    }
}
