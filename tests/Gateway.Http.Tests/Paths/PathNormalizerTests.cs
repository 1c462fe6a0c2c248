using Gateway.Http.Paths;

namespace Gateway.Http.Tests.Paths;

public sealed class PathNormalizerTests
{
    private static readonly PathNormalization Defaults = new();

    private static string Normalized(string target, PathNormalization? options = null)
    {
        PathNormalizer.Result result = PathNormalizer.Normalize(target, options ?? Defaults, out string normalized);
        Assert.NotEqual(PathNormalizer.Result.EscapedSlash, result);
        Assert.Equal(result == PathNormalizer.Result.Unchanged, ReferenceEquals(normalized, target));
        return normalized;
    }

    [Theory]
    [InlineData("/%61pi/x", "/api/x")]
    [InlineData("/%41%7a%30-%2E_%7E", "/Az0-._~")]
    [InlineData("//api/x", "/api/x")]
    [InlineData("/api//x//", "/api/x/")]
    [InlineData("/a/./b", "/a/b")]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/a/b/.", "/a/b/")]
    [InlineData("/../../api/x", "/api/x")]
    [InlineData("/x/%2e%2e/api/x", "/api/x")]
    [InlineData("/x/.%2E/api/x", "/api/x")]
    [InlineData("/..", "/")]
    [InlineData("/.", "/")]
    [InlineData("/a/b..c/.d/...", "/a/b..c/.d/...")]
    [InlineData("/a%3ab%3A", "/a%3Ab%3A")]
    [InlineData("/caf%c3%a9", "/caf%C3%A9")]
    [InlineData("/x/../api/y?q=/../%61//", "/api/y?q=/../%61//")]
    public void PathVariants_NormalizeToOnePath(string target, string expected) =>
        Assert.Equal(expected, Normalized(target));

    [Theory]
    [InlineData("/")]
    [InlineData("/api/x")]
    [InlineData("/api/x/?a=%2F//../")]
    [InlineData("*")]
    public void NormalPath_ReturnedWithoutCopy(string target)
    {
        Assert.Equal(PathNormalizer.Result.Unchanged, PathNormalizer.Normalize(target, Defaults, out string normalized));
        Assert.Same(target, normalized);
    }

    [Theory]
    [InlineData("//api//x", "//api//x")]
    [InlineData("/a//../b", "/a/b")]
    public void MergeSlashesOff_KeepsEmptySegments(string target, string expected) =>
        Assert.Equal(expected, Normalized(target, new PathNormalization { MergeSlashes = false }));

    [Theory]
    [InlineData("/api%2Fx")]
    [InlineData("/api%2fx")]
    [InlineData("/api%5Cx")]
    [InlineData("/api%5c..%5cadmin")]
    public void EscapedSlash_RejectedByDefault(string target) =>
        Assert.Equal(PathNormalizer.Result.EscapedSlash, PathNormalizer.Normalize(target, Defaults, out _));

    [Theory]
    [InlineData("/api%2fx", "/api%2Fx")]
    [InlineData("/a/..%2F..%2Fb", "/a/..%2F..%2Fb")]
    [InlineData("/a%5cb", "/a%5Cb")]
    public void EscapedSlash_Keep_StaysOneEncodedSegment(string target, string expected) =>
        Assert.Equal(expected, Normalized(target, new PathNormalization { EscapedSlashes = EscapedSlashAction.Keep }));

    [Theory]
    [InlineData("/api%2Fx", "/api/x")]
    [InlineData("/admin%5C..%5Capi%2Fx", "/api/x")]
    [InlineData("/%2F%2Fapi", "/api")]
    public void EscapedSlash_Unescape_DecodedBeforeSegmentsResolve(string target, string expected) =>
        Assert.Equal(expected, Normalized(target, new PathNormalization { EscapedSlashes = EscapedSlashAction.Unescape }));
}
