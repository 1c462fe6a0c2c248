using System.Text;

namespace Gateway.Perf.Tests.Loopback;

/// <summary>How a <see cref="CountingServer"/> answers: one behaviour per test, fixed for the server's life.</summary>
public sealed record ServerScript
{
    private const string Body = "hello, loader";

    public int Status { get; init; } = 200;

    /// <summary>Every this-many-th response on a connection says <c>Connection: close</c> and ends it; 0 for never.</summary>
    public int CloseEvery { get; init; }

    /// <summary>Reads requests and never answers, as a proxy that accepted past its limit.</summary>
    public bool Silent { get; init; }

    /// <summary>When positive, each response goes out in four writes with this pause between (status line, rest of the head, two halves of the body).</summary>
    public TimeSpan PauseBetweenSegments { get; init; }

    /// <summary>The request header whose values the server keeps, one per request.</summary>
    public string? RecordedHeader { get; init; }

    public bool Succeeds => Status is >= 200 and < 300;

    public bool ClosesAfter(int answeredOnConnection) => CloseEvery > 0 && answeredOnConnection % CloseEvery == 0;

    /// <summary>The response's bytes in the writes the server makes.</summary>
    public IReadOnlyList<byte[]> Segments(bool close)
    {
        var head = $"HTTP/1.1 {Status} Scripted\r\nContent-Length: {Body.Length}\r\n{(close ? "Connection: close\r\n" : "")}Server: counting\r\n\r\n";
        var response = Encoding.ASCII.GetBytes(head + Body);
        if (PauseBetweenSegments <= TimeSpan.Zero)
        {
            return [response];
        }
        var statusLineEnd = head.IndexOf("\r\n", StringComparison.Ordinal) + 2;
        var halfBody = head.Length + (Body.Length / 2);
        return [response[..statusLineEnd], response[statusLineEnd..head.Length], response[head.Length..halfBody], response[halfBody..]];
    }
}
