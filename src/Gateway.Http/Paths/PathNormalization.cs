using System.Text.Json.Serialization;

namespace Gateway.Http.Paths;

/// <summary>What an encoded <c>/</c> (<c>%2F</c>) or <c>\</c> (<c>%5C</c>) in a request path does (config <c>paths.escapedSlashes</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EscapedSlashAction>))]
public enum EscapedSlashAction
{
    /// <summary>400: a backend that decodes it would see a different path than the one routed on.</summary>
    [JsonStringEnumMemberName("reject")] Reject,

    /// <summary>Left encoded: routed and forwarded as <c>%2F</c> / <c>%5C</c>, never as a separator.</summary>
    [JsonStringEnumMemberName("keep")] Keep,

    /// <summary>Decoded to <c>/</c> (a backslash too, as browsers do) before dot segments and slashes are resolved.</summary>
    [JsonStringEnumMemberName("unescape")] Unescape,
}

/// <summary>How request paths are normalized before routing (config key <c>paths</c>, bound as is); routes and upstreams see the result.</summary>
public sealed record PathNormalization
{
    /// <summary>Repeated slashes collapse into one (<c>//api//x</c> is <c>/api/x</c>).</summary>
    public bool MergeSlashes { get; init; } = true;

    public EscapedSlashAction EscapedSlashes { get; init; } = EscapedSlashAction.Reject;
}
