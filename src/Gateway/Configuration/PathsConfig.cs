using System.Text.Json.Serialization;
using Gateway.Http.Paths;

namespace Gateway.Configuration;

/// <summary>Config key <c>paths</c>: how request paths are normalized before routing; routes and upstreams see the result.</summary>
public sealed record PathsConfig
{
    /// <summary>Collapse repeated slashes (<c>//api//x</c> routes as <c>/api/x</c>).</summary>
    public bool MergeSlashes { get; init; } = true;

    /// <summary>What <c>%2F</c> and <c>%5C</c> in a path do: refused with 400 by default.</summary>
    public EscapedSlashes EscapedSlashes { get; init; } = EscapedSlashes.Reject;

    public PathNormalization ToNormalization() => new()
    {
        MergeSlashes = MergeSlashes,
        EscapedSlashes = EscapedSlashes switch
        {
            EscapedSlashes.Keep => EscapedSlashAction.Keep,
            EscapedSlashes.Unescape => EscapedSlashAction.Unescape,
            _ => EscapedSlashAction.Reject,
        },
    };
}

[JsonConverter(typeof(JsonStringEnumConverter<EscapedSlashes>))]
public enum EscapedSlashes
{
    /// <summary>400.</summary>
    [JsonStringEnumMemberName("reject")] Reject,
    /// <summary>Routed and forwarded still encoded.</summary>
    [JsonStringEnumMemberName("keep")] Keep,
    /// <summary>Decoded to "/" before the path is normalized.</summary>
    [JsonStringEnumMemberName("unescape")] Unescape,
}
