using System.Buffers;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Proxy.Forwarding;

namespace Gateway.Proxy.Tests;

public sealed class ForwardingLinesTests
{
    [Fact]
    public void NewId_IsTheLastLine_AndTheSameStringWhenRead()
    {
        var lines = new ForwardingLines("10.1.2.3", "https");
        lines.Begin(clientId: null);
        string written = Encoding.Latin1.GetString(lines.Lines);
        Assert.Matches("^x-forwarded-for: 10\\.1\\.2\\.3\r\nx-forwarded-proto: https\r\nx-request-id: [0-9a-f]{32}\r\n$", written);
        Assert.EndsWith($"x-request-id: {lines.RequestId}\r\n", written);
    }

    [Fact]
    public void EachRequest_GetsItsOwnId()
    {
        var lines = new ForwardingLines("::1", "http");
        lines.Begin(clientId: null);
        string first = lines.RequestId;
        lines.Begin(clientId: null);
        Assert.NotEqual(first, lines.RequestId);
        Assert.EndsWith($"x-request-id: {lines.RequestId}\r\n", Encoding.Latin1.GetString(lines.Lines));
    }

    [Fact]
    public void ClientsId_StaysAmongItsFields_AndIsNotWrittenAgain()
    {
        var lines = new ForwardingLines("::1", "http");
        lines.Begin(clientId: "abc-123");
        Assert.Equal("abc-123", lines.RequestId);
        Assert.Equal("x-forwarded-for: ::1\r\nx-forwarded-proto: http\r\n", Encoding.Latin1.GetString(lines.Lines));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("abc-123")]
    public void AddTo_MakesThemFieldsForPlugins_AndLeavesNoLines(string? clientId)
    {
        var lines = new ForwardingLines("10.0.0.1", "http");
        var headers = new HeaderCollection();
        if (clientId is not null)
        {
            headers.Add("x-request-id", clientId);
        }
        lines.Begin(clientId);
        lines.AddTo(headers);
        Assert.True(lines.Lines.IsEmpty);
        Assert.Equal("10.0.0.1", headers.Get("x-forwarded-for"));
        Assert.Equal("http", headers.Get("x-forwarded-proto"));
        int id = Assert.Single(Enumerable.Range(0, headers.Count), i => headers[i].Key == "x-request-id");
        Assert.Equal(lines.RequestId, headers[id].Value);

        lines.Begin(clientId: null);
        Assert.False(lines.Lines.IsEmpty);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("abc-123")]
    public void DeferredLines_AreCountedAndWritten_AsTheFieldsTheyBecomeWhenRead(string? clientId)
    {
        // A plugin route: the head counts the lines among its fields; whether a plugin then reads the fields or not,
        // the upstream gets the same head.
        var (untouched, untouchedLines) = PluginRouteHead(clientId);
        var (read, readLines) = PluginRouteHead(clientId);
        // user-agent, the client's id or the new one, and the two forwarded fields.
        Assert.Equal(4, untouched.FieldCount);

        Assert.Equal(untouched.FieldCount, read.Headers.Count);
        Assert.True(readLines.Lines.IsEmpty);
        Assert.False(untouchedLines.Lines.IsEmpty);
        Assert.Equal(Written(read, readLines), Written(untouched, untouchedLines));
        Assert.Equal(4, untouched.FieldCount);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("abc-123")]
    public void FieldAddedWhileDeferred_FollowsTheDeferredLines_AsWhenAddedToTheFields(string? clientId)
    {
        // What proxy_add_header_map_value on the request does: it must not make the deferred lines fields.
        var (untouched, untouchedLines) = PluginRouteHead(clientId);
        var (read, readLines) = PluginRouteHead(clientId);
        Assert.True(untouched.TryAddAfterDeferred("x-added", "1"));
        read.Headers.Add("x-added", "1");

        Assert.True(untouched.HasDeferredFields);
        Assert.Equal(5, untouched.FieldCount);
        Assert.Equal(Written(read, readLines), Written(untouched, untouchedLines));
        Assert.Equal(
            Enumerable.Range(0, read.Headers.Count).Select(i => read.Headers[i].Key),
            Enumerable.Range(0, untouched.Headers.Count).Select(i => untouched.Headers[i].Key));
        Assert.False(untouched.TryAddAfterDeferred("x-late", "2"));
    }

    private static (HttpRequestHead, ForwardingLines) PluginRouteHead(string? clientId)
    {
        var head = new HttpRequestHead { Method = "GET", Target = "/a", Authority = "example.com" };
        head.Headers.Add("user-agent", "test");
        if (clientId is not null)
        {
            head.Headers.Add("x-request-id", clientId);
        }
        var lines = new ForwardingLines("10.0.0.1", "http");
        lines.Begin(clientId);
        head.Defer(lines);
        return (head, lines);
    }

    private static string Written(HttpRequestHead head, ForwardingLines lines)
    {
        var output = new ArrayBufferWriter<byte>();
        HeadWriter.WriteRequest(output, head, BodyFraming.None, 0, lines.Lines);
        // The new id differs per request; the rest must not.
        return System.Text.RegularExpressions.Regex.Replace(Encoding.Latin1.GetString(output.WrittenSpan), "[0-9a-f]{32}", "ID");
    }
}
