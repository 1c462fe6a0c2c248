using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The fields the gateway adds to each request a connection forwards (FW-2, FW-3): X-Forwarded-For and
/// X-Forwarded-Proto, the same for all its requests, and the current request's X-Request-Id. On a route without plugins
/// nothing reads them before the head is written, so they stay the bytes the head writer copies: a new id is written as
/// hex digits into its line and becomes a string only when something asks for it (a log line, an error response, the
/// access log). On a route with plugins they are fields of the head, which its plugins see as Envoy's filters do; the
/// head defers them (<see cref="HttpRequestHead.Defer"/>), so they are counted among its fields but stay these lines
/// until something reads the fields, which a plugin that only passes the request on never does.
/// </summary>
internal sealed class ForwardingLines : IRequestIdSource, IDeferredFields
{
    private const int IdDigits = RequestIds.Digits;

    private static ReadOnlySpan<byte> IdName => "x-request-id: "u8;

    // "x-forwarded-for: …" CRLF "x-forwarded-proto: …" CRLF "x-request-id: " 32 digits CRLF.
    private readonly byte[] _bytes;
    private readonly int _idLine;
    private string? _requestId;
    // The current request's id is the one in the bytes (not the client's, which stays among its fields).
    private bool _newId;
    // The current request carries the fields in its head instead.
    private bool _inHead;

    public ForwardingLines(string forwardedFor, string scheme)
    {
        ForwardedFor = forwardedFor;
        Scheme = scheme;
        string lines = $"x-forwarded-for: {forwardedFor}\r\nx-forwarded-proto: {scheme}\r\n";
        _idLine = lines.Length;
        _bytes = new byte[_idLine + IdName.Length + IdDigits + 2];
        Encoding.Latin1.GetBytes(lines, _bytes);
        IdName.CopyTo(_bytes.AsSpan(_idLine));
        "\r\n"u8.CopyTo(_bytes.AsSpan(_bytes.Length - 2));
    }

    public string ForwardedFor { get; }

    public string Scheme { get; }

    /// <summary>The current request's X-Request-Id.</summary>
    public string RequestId => _requestId ??= Encoding.Latin1.GetString(IdDigitsSpan);

    /// <summary>The lines the current request's head is written with; none once they are fields of the head.</summary>
    public ReadOnlySpan<byte> Lines => _inHead ? [] : _newId ? _bytes : _bytes.AsSpan(0, _idLine);

    private Span<byte> IdDigitsSpan => _bytes.AsSpan(_idLine + IdName.Length, IdDigits);

    /// <summary>Starts a request: it keeps the client's usable <paramref name="clientId"/>, or gets a new id.</summary>
    public void Begin(string? clientId)
    {
        _inHead = false;
        _requestId = clientId;
        _newId = clientId is null;
        if (_newId)
        {
            RequestIds.Write(IdDigitsSpan);
        }
    }

    /// <summary>How many fields the lines are.</summary>
    public int Count => _newId ? 3 : 2;

    public int Bytes => Lines.Length;

    /// <summary>Makes the lines fields of <paramref name="headers"/>, for plugins to read; the head is written from those.</summary>
    public void AddTo(HeaderCollection headers)
    {
        headers.Add("x-forwarded-for", ForwardedFor);
        headers.Add("x-forwarded-proto", Scheme);
        if (_newId)
        {
            headers.Add("x-request-id", RequestId);
        }
        _inHead = true;
    }
}
