using System.Text;

namespace Gateway.Backends.Tests;

/// <summary>Where each RESP2 reply ends in the byte stream from Redis, whole or arriving in pieces.</summary>
public sealed class RespReplyFramerTests
{
    [Theory]
    [InlineData("+OK\r\n")]
    [InlineData("-NOSCRIPT No matching script\r\n")]
    [InlineData(":-42\r\n")]
    [InlineData("$-1\r\n")]
    [InlineData("$0\r\n\r\n")]
    [InlineData("$12\r\nbinary\r\nsafe\r\n")]
    [InlineData("*-1\r\n")]
    [InlineData("*0\r\n")]
    [InlineData("*3\r\n:1\r\n:999999999\r\n:0\r\n")]
    [InlineData("*2\r\n*2\r\n$1\r\na\r\n*1\r\n*0\r\n$-1\r\n")]
    public void WholeReply_LengthIsTheReply(string reply)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(reply);
        var framer = new RespReplyFramer();
        Assert.Equal(bytes.Length, framer.Next(bytes));
    }

    [Fact]
    public void EveryPrefixOfAReply_IsIncompleteUntilTheLastByte()
    {
        byte[] reply = Encoding.ASCII.GetBytes("*3\r\n$5\r\nhello\r\n*2\r\n:1\r\n-ERR x\r\n$-1\r\n");
        var framer = new RespReplyFramer();
        for (int length = 0; length < reply.Length; length++)
        {
            Assert.Equal(0, framer.Next(reply.AsSpan(0, length)));
        }
        Assert.Equal(reply.Length, framer.Next(reply));
    }

    [Fact]
    public void PipelinedReplies_ComeOutOneAtATime()
    {
        byte[] stream = Encoding.ASCII.GetBytes("+PONG\r\n:7\r\n$3\r\nabc\r\n");
        var framer = new RespReplyFramer();
        int first = framer.Next(stream);
        int second = framer.Next(stream.AsSpan(first));
        int third = framer.Next(stream.AsSpan(first + second));
        Assert.Equal([7, 4, 9], new[] { first, second, third });
    }

    [Fact]
    public void DeeplyNestedReply_NeedsNoRecursion()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 100_000; i++)
        {
            text.Append("*1\r\n");
        }
        text.Append(":1\r\n");
        byte[] bytes = Encoding.ASCII.GetBytes(text.ToString());
        var framer = new RespReplyFramer();
        Assert.Equal(bytes.Length, framer.Next(bytes));
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("?x\r\n")]
    [InlineData("$abc\r\n")]
    [InlineData("$-2\r\n")]
    [InlineData("*1x\r\n")]
    [InlineData("$3\r\nabcd\r\n")]
    public void NotResp2_IsRefused(string reply)
    {
        var framer = new RespReplyFramer();
        Assert.Equal(-1, framer.Next(Encoding.ASCII.GetBytes(reply)));
    }
}
