using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

/// <summary>Rules HF-1 to HF-9 of docs/http1-rules.md.</summary>
public class HeaderFieldTests
{
    private static string With(string fields) => "POST / HTTP/1.1\r\nHost: a.test\r\n" + fields + "\r\n";

    [Theory]
    [InlineData("X-A b\r\n")]
    [InlineData("Transfer-Encoding chunked\r\n")]
    [InlineData("X\r\n")]
    public void HF1_LineWithoutColon_Rejected(string field) =>
        Request.Rejected(With(field), RequestRejection.MissingColon, 400);

    [Theory]
    [InlineData(": chunked\r\n")]
    [InlineData(":SomeHeader:Transfer-Encoding: chunked\r\n")]
    [InlineData("\u0001Transfer-Encoding: chunked\r\n")]
    [InlineData("Transfer-Encoding\u0088: chunked\r\n")]
    [InlineData("X-A\u00a0: b\r\n")]
    [InlineData("X(A): b\r\n")]
    [InlineData("X A: b\r\n")]
    [InlineData("X/A: b\r\n")]
    public void HF2_NameNotAToken_Rejected(string field) =>
        Request.Rejected(With(field), RequestRejection.InvalidHeaderName, 400);

    [Fact]
    public void HF2_EveryTcharInName_AcceptedLowerCased()
    {
        HttpRequestHead head = Request.Accepted(With("X!#$%&'*+-.^_`|~09AZ: v\r\n"));
        Assert.Equal(new KeyValuePair<string, string>("x!#$%&'*+-.^_`|~09az", "v"), head.Headers[0]);
    }

    [Theory]
    [InlineData("Content-Type")]
    [InlineData("DATE")]
    [InlineData("x-Request-ID")]
    [InlineData("Sec-WebSocket-Key")]
    [InlineData("Accept-Encoding")]
    public void KnownName_IsTheInternedLowerCaseInstance(string name)
    {
        HttpRequestHead head = Request.Accepted(With(name + ": v\r\n"));
        string? interned = string.IsInterned(name.ToLowerInvariant());
        Assert.NotNull(interned);
        Assert.Same(interned, head.Headers[0].Key);
    }

    [Theory]
    [InlineData("1-Date", "1-date")]
    [InlineData("Dat", "dat")]
    [InlineData("~x", "~x")]
    public void UnknownName_IsLowerCased(string name, string lower) =>
        Assert.Equal(lower, Request.Accepted(With(name + ": v\r\n")).Headers[0].Key);

    [Theory]
    [InlineData("Transfer-Encoding : chunked\r\n")]
    [InlineData("Content-Length\t: 5\r\n")]
    [InlineData("X-A  : b\r\n")]
    public void HF3_WhitespaceBeforeColon_Rejected(string field) =>
        Request.Rejected(With(field), RequestRejection.WhitespaceBeforeColon, 400);

    [Theory]
    [InlineData("X-A: a\r\n Transfer-Encoding: chunked\r\n")]
    [InlineData("Content-Length: 5\r\n\t6\r\n")]
    [InlineData("X-A: a\r\n \r\n")]
    public void HF4_ObsFold_Rejected(string field) =>
        Request.Rejected(With(field), RequestRejection.ObsFold, 400);

    [Fact]
    public void HF5_TrailingSpaceOnHost_RoutesLikeWithout()
    {
        Assert.Equal("a.test", Request.Accepted("GET / HTTP/1.1\r\nHost: a.test \r\n\r\n").Authority);
        Assert.Equal("a.test", Request.Accepted("GET / HTTP/1.1\r\nHost:\ta.test\t \r\n\r\n").Authority);
    }

    [Fact]
    public void HF5_OnlySpAndHtabTrimmed() =>
        Assert.Equal("v  v", Request.Accepted(With("X-A: \t v  v \t\r\n")).Headers.Get("x-a"));

    [Theory]
    [InlineData("Transfer-Encoding: chunked\u00a0\r\n", RequestRejection.InvalidTransferEncoding)]
    [InlineData("Content-Length: \u000b42\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("Content-Length: 42\u000c\r\n", RequestRejection.InvalidHeaderValue)]
    [InlineData("Content-Length: 42\u0085\r\n", RequestRejection.InvalidContentLength)]
    public void HF5_OtherWhitespaceNotTrimmed_Rejected(string field, RequestRejection reason) =>
        Request.Rejected(With(field), reason, 400);

    [Theory]
    [InlineData("X-A: a\u0001b\r\n")]
    [InlineData("X-A: a\u007f\r\n")]
    [InlineData("X-A: \u001b[0m\r\n")]
    [InlineData("X-A: a\u000bb\r\n")]
    public void HF6_ControlOctetInValue_Rejected(string field) =>
        Request.Rejected(With(field), RequestRejection.InvalidHeaderValue, 400);

    [Fact]
    public void HF6_ObsTextInValue_KeptByteForByte()
    {
        HttpRequestHead head = Request.Accepted(With("X-A: caf\u00e9 \u00ff\u0080\r\n"));
        Assert.Equal("caf\u00e9 \u00ff\u0080", head.Headers.Get("x-a"));
    }

    [Fact]
    public void HF6_EmptyValue_Accepted() =>
        Assert.Equal("", Request.Accepted(With("X-A:\r\nX-B: \t\r\n")).Headers.Get("x-b"));

    [Theory]
    [InlineData("Transfer_Encoding: chunked\r\n")]
    [InlineData("Content_Length: 5\r\n")]
    [InlineData("Transfer---Encoding: chunked\r\n")]
    [InlineData("Transfer___Encoding: chunked\r\n")]
    [InlineData("content--length: 5\r\n")]
    [InlineData("CONTENT_LENGTH: 5\r\n")]
    public void HF7_FramingFieldLookalike_Rejected(string field) =>
        Request.Rejected(With(field), RequestRejection.FramingHeaderLookalike, 400);

    [Fact]
    public void HF7_OtherUnderscoreNames_Accepted() =>
        Assert.Equal("1", Request.Accepted(With("X_Custom_Header: 1\r\n")).Headers.Get("x_custom_header"));

    [Theory]
    [InlineData("Authorization: a\r\nAuthorization: b\r\n")]
    [InlineData("Content-Type: a/b\r\ncontent-type: a/b\r\n")]
    public void HF8_DuplicateSecuritySingleton_Rejected(string fields) =>
        Request.Rejected(With(fields), RequestRejection.DuplicateHeader, 400);

    [Fact]
    public void HF8_DuplicateHost_Rejected() =>
        Request.Rejected(With("Host: a.test\r\n"), RequestRejection.DuplicateHost, 400);

    [Fact]
    public void HF8_ListFieldsRepeat_OrderPreservedNotCombined()
    {
        HttpRequestHead head = Request.Accepted(With("Accept: a\r\nX-B: 1\r\nAccept: b\r\n"));
        Assert.Equal(3, head.Headers.Count);
        Assert.Equal(new KeyValuePair<string, string>("accept", "a"), head.Headers[0]);
        Assert.Equal(new KeyValuePair<string, string>("x-b", "1"), head.Headers[1]);
        Assert.Equal(new KeyValuePair<string, string>("accept", "b"), head.Headers[2]);
    }

    [Fact]
    public void HF9_MoreFieldsThanLimit_Rejected431()
    {
        var limits = new HttpLimits { MaxHeaderCount = 3 };
        Request.Rejected(With("A: 1\r\nB: 2\r\nC: 3\r\n"), RequestRejection.TooManyHeaders, 431, limits);
        // Host counts as a field too; it is then represented by Authority, not left in Headers.
        Assert.Equal(2, Request.Accepted(With("A: 1\r\nB: 2\r\n"), limits).Headers.Count);
    }

    [Fact]
    public void HF9_TooManyFields_RejectedBeforeHeadCompletes()
    {
        var limits = new HttpLimits { MaxHeaderCount = 3 };
        Request.Rejected("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n", RequestRejection.TooManyHeaders, 431, limits);
    }

    [Fact]
    public void HF9_SectionOverLimit_Rejected431()
    {
        var limits = new HttpLimits { MaxHeaderBytes = 100 };
        Request.Rejected(With("X-A: " + new string('v', 80) + "\r\n"), RequestRejection.HeadersTooLarge, 431, limits);
    }

    [Fact]
    public void HF9_UnterminatedSectionOverLimit_Rejected431WhileIncomplete()
    {
        var limits = new HttpLimits { MaxHeaderBytes = 100 };
        Request.Rejected("GET / HTTP/1.1\r\nX-A: " + new string('v', 200), RequestRejection.HeadersTooLarge, 431, limits);
    }

    [Fact]
    public void HF9_SectionExactlyAtLimit_Accepted()
    {
        // "Host: a.test\r\n" (14) + "X-A: ...\r\n" + final "\r\n" (2) = 100
        var limits = new HttpLimits { MaxHeaderBytes = 100 };
        string field = "X-A: " + new string('v', 100 - 14 - 2 - 7) + "\r\n";
        Request.Accepted(With(field), limits);
        Request.Rejected(With("X-A: " + new string('v', 100 - 14 - 2 - 6) + "\r\n"), RequestRejection.HeadersTooLarge, 431, limits);
    }

    [Fact]
    public void HF9_FieldNameAtLimit_PreservedAndOtherFieldsUnchanged()
    {
        string name = "X-" + new string('N', RequestHeadParser.MaxFieldNameBytes - 2);
        HttpRequestHead head = Request.Accepted(With(name + ": v\r\nContent-Length: 3\r\n") + "abc");
        Assert.Equal(name.ToLowerInvariant(), head.Headers[0].Key);
        Assert.Equal(BodyFraming.ContentLength, head.Framing);
        Assert.Equal(3, head.ContentLength);
    }

    [Fact]
    public void HF9_300ByteFieldName_Rejected431() =>
        Request.Rejected(With("X-" + new string('n', 298) + ": v\r\nContent-Length: 3\r\n"), RequestRejection.FieldNameTooLong, 431);

    [Fact]
    public void HF9_FieldLineOverLimit_Rejected431WhileIncomplete()
    {
        string value = new string('v', RequestHeadParser.MaxFieldLineBytes);
        Request.Rejected(With("X-A: " + value + "\r\n"), RequestRejection.FieldLineTooLarge, 431);
        Request.Rejected("GET / HTTP/1.1\r\nX-A: " + value, RequestRejection.FieldLineTooLarge, 431);
        Assert.Equal(RequestHeadParser.MaxFieldLineBytes - 5,
            Request.Accepted(With("X-A: " + value[5..] + "\r\n")).Headers.Get("x-a")!.Length);
    }
}
