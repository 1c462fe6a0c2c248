using Gateway.Http.Messages;
using Gateway.Http.Parsing;

namespace Gateway.Http.Tests.Parsing;

public class RequestLineTests
{
    [Fact]
    public void SimpleGet_Accepted()
    {
        RequestOutcome outcome = RequestVector.Parse("GET /a?b=c HTTP/1.1\r\nHost: A.Test\r\nAccept: */*\r\n\r\nNEXT");
        Assert.Equal(ParseStatus.Complete, outcome.Status);
        Assert.Equal("GET", outcome.Head.Method);
        Assert.Equal("/a?b=c", outcome.Head.Target);
        Assert.Equal("a.test", outcome.Head.Authority);
        Assert.Equal(BodyFraming.None, outcome.Head.Framing);
        Assert.Equal(1, outcome.Head.Headers.Count);
        Assert.Equal(new KeyValuePair<string, string>("accept", "*/*"), outcome.Head.Headers[0]);
        Assert.Equal(50, outcome.Consumed);
    }
}
