using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Tls;
using Gateway.Proxy.Upstream;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Functional.Tests.Plugins;

/// <summary>
/// The <c>proxy_http_call</c> client on real loopback sockets: callouts reuse keep-alive connections per endpoint, only
/// when the response allows it (KA-4), never once the server closed them (KA-5), repeat an idempotent request once on a
/// new connection when a reused one closes unanswered (KA-7), keep at most a bounded idle set for at most the idle
/// timeout, and close the idle set when disposed (a reload or the gateway's stop) while calls in flight finish. A reload
/// builds the next client from the running one: a cluster it leaves unchanged keeps its connections, a changed one
/// starts over.
/// </summary>
public sealed class HttpCallConnectionReuseTests
{
    /// <summary>A client of one cluster; given <paramref name="previous"/>, built as a reload builds the next one from it.</summary>
    private static ClusterHttpCalls Calls(int port, int idleTimeoutMs = ClusterOptions.DefaultPooledIdleTimeoutMs, UpstreamTls? tls = null,
        ClusterHttpCalls? previous = null, string cluster = "authsvc") =>
        new([new ClusterOptions
        {
            Name = cluster,
            Endpoints = [new DnsEndPoint("127.0.0.1", port)],
            PooledIdleTimeoutMs = idleTimeoutMs,
            Tls = tls,
        }], previous);

    /// <summary>Calls to <paramref name="upstream"/> over TLS, verified against <paramref name="ca"/> (written to <paramref name="folder"/>, read anew).</summary>
    private static ClusterHttpCalls TlsCalls(TlsTestUpstream upstream, TempFolder folder, X509Certificate2 ca, ClusterHttpCalls? previous = null) =>
        Calls(int.Parse(upstream.Endpoint.Split(':')[1]), tls: new UpstreamTls(
            "authsvc",
            new UpstreamTlsOptions { CaFile = TestCertificates.WriteCaPem(folder.Path, ca), ServerName = "auth.internal" },
            NullLogger.Instance), previous: previous);

    private static Task<HttpCallResult> CallAsync(ClusterHttpCalls calls, string method = "GET", string body = "", int timeoutMs = 5000,
        string cluster = "authsvc")
    {
        var done = new TaskCompletionSource<HttpCallResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var request = new HttpRequestHead { Method = method, Target = "/auth", Authority = "auth.internal" };
        calls.Send(cluster, request, Encoding.ASCII.GetBytes(body), TimeSpan.FromMilliseconds(timeoutMs), done.SetResult);
        return done.Task.WaitAsync(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
    }

    private static string BodyOf(HttpCallResult result)
    {
        Assert.True(result.Succeeded, result.FailureReason);
        return Encoding.ASCII.GetString(result.Body);
    }

    private static Task<bool> EventuallyAsync(Func<bool> condition) =>
        Eventually.HoldsAsync(() => Task.FromResult(condition()), TestContext.Current.CancellationToken);

    /// <summary>Closes the server's side after reading a request, without a byte of response.</summary>
    private static Task CloseUnansweredAsync(NetworkStream stream)
    {
        stream.Socket.Shutdown(SocketShutdown.Both);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task SequentialCalls_UseOneConnection()
    {
        await using var upstream = new TestUpstream();
        using var calls = Calls(upstream.Port);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        }
        Assert.Equal(1, upstream.ConnectionCount);
        Assert.Equal(5, upstream.Requests.Count);
        Assert.All(upstream.Requests, r => Assert.Equal(1, r.ConnectionId));
    }

    /// <summary>Each cluster keeps its own round-robin turn: calls alternating between two clusters still reach every endpoint of each.</summary>
    [Fact]
    public async Task CallsAlternatingBetweenClusters_ReachEveryEndpointOfEach()
    {
        await using var a0 = new TestUpstream();
        await using var a1 = new TestUpstream();
        await using var b0 = new TestUpstream();
        await using var b1 = new TestUpstream();
        static ClusterOptions Cluster(string name, TestUpstream first, TestUpstream second) => new()
        {
            Name = name,
            Endpoints = [new DnsEndPoint("127.0.0.1", first.Port), new DnsEndPoint("127.0.0.1", second.Port)],
        };
        using var calls = new ClusterHttpCalls([Cluster("a", a0, a1), Cluster("b", b0, b1)]);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("hello", BodyOf(await CallAsync(calls, cluster: "a")));
            Assert.Equal("hello", BodyOf(await CallAsync(calls, cluster: "b")));
        }
        Assert.Equal([2, 2, 2, 2], new[] { a0, a1, b0, b1 }.Select(u => u.Requests.Count));
    }

    [Fact]
    public async Task ChunkedResponses_AreReadToTheirEndAndTheConnectionReused()
    {
        await using var upstream = new TestUpstream((_, s) =>
            TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
        using var calls = Calls(upstream.Port);
        Assert.Equal("ok", BodyOf(await CallAsync(calls, "POST", "{}")));
        Assert.Equal("ok", BodyOf(await CallAsync(calls, "POST", "{}")));
        Assert.Equal(1, upstream.ConnectionCount);
    }

    [Fact]
    public async Task ServerClosesIdleConnection_NextCallSucceedsOnANewOne()
    {
        await using var upstream = new TestUpstream();
        using var calls = Calls(upstream.Port);
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        upstream.DropConnections();
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == 1), "the server's close never happened");
        // The FIN that arrived while idle makes the connection unfit before anything is sent on it (KA-5), so even a
        // POST, which is never repeated, gets through.
        Assert.Equal("hello", BodyOf(await CallAsync(calls, "POST", "check")));
        Assert.Equal(2, upstream.ConnectionCount);
        Assert.Equal(2, upstream.Requests.Count);
        // The new connection is the one kept.
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        Assert.Equal(2, upstream.ConnectionCount);
    }

    [Fact]
    public async Task ReusedConnectionClosedUnanswered_IdempotentCallRepeatedOnANewConnection()
    {
        int requestsOnFirst = 0;
        await using var upstream = new TestUpstream((r, s) =>
            r.ConnectionId == 1 && Interlocked.Increment(ref requestsOnFirst) == 2 ? CloseUnansweredAsync(s) : TestUpstream.OkAsync(r, s));
        using var calls = Calls(upstream.Port);
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        // The server took the second request on the kept connection and closed it, as one closing an idle connection
        // does when a request crosses its FIN: the call goes again on a new connection.
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        Assert.Equal(2, upstream.ConnectionCount);
        Assert.Equal(new[] { 1, 1, 2 }, upstream.Requests.Select(r => r.ConnectionId));
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        Assert.Equal(2, upstream.ConnectionCount);
    }

    [Fact]
    public async Task RepeatedCallClosedUnansweredAgain_FailsWithoutAThirdTry()
    {
        int requests = 0;
        await using var upstream = new TestUpstream((r, s) =>
            Interlocked.Increment(ref requests) == 1 ? TestUpstream.OkAsync(r, s) : CloseUnansweredAsync(s));
        using var calls = Calls(upstream.Port);
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        HttpCallResult failed = await CallAsync(calls);
        Assert.False(failed.Succeeded);
        // What a new connection closed before any response always answered.
        Assert.Equal("bad response", failed.FailureReason);
        Assert.Equal(2, upstream.ConnectionCount);
        Assert.Equal(3, upstream.Requests.Count);
    }

    [Fact]
    public async Task ReusedConnectionClosedUnanswered_PostIsNotRepeated()
    {
        int requests = 0;
        await using var upstream = new TestUpstream((r, s) =>
            Interlocked.Increment(ref requests) == 2 ? CloseUnansweredAsync(s) : TestUpstream.OkAsync(r, s));
        using var calls = Calls(upstream.Port);
        Assert.Equal("hello", BodyOf(await CallAsync(calls, "POST", "check")));
        // The server may have acted on the request it took (KA-7): the plugin gets the failure, the request is not sent twice.
        HttpCallResult failed = await CallAsync(calls, "POST", "check");
        Assert.False(failed.Succeeded);
        Assert.Equal(2, upstream.Requests.Count);
        Assert.Equal(1, upstream.ConnectionCount);
        Assert.Equal("hello", BodyOf(await CallAsync(calls, "POST", "check")));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok")]
    public async Task ResponseThatEndsTheConnection_IsNotReused(string response)
    {
        // The server keeps its side open: only the response says the connection ends.
        await using var upstream = new TestUpstream((_, s) => TestUpstream.WriteAsync(s, response));
        using var calls = Calls(upstream.Port);
        Assert.Equal("ok", BodyOf(await CallAsync(calls)));
        Assert.Equal("ok", BodyOf(await CallAsync(calls)));
        Assert.Equal(2, upstream.ConnectionCount);
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == 2), "the gateway did not close the connections");
    }

    /// <summary>A server that sends its head and part of the body, then nothing: the call times out and lets go.</summary>
    [Fact]
    public async Task BodyStalledAfterTheHead_TimesOutAtTheDeadline_AndClosesTheConnection()
    {
        await using var upstream = new TestUpstream(async (_, s) =>
        {
            await TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b");
            // Holds the connection until the gateway closes it (the read ends with 0 bytes, or with a reset).
            await s.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, TestContext.Current.CancellationToken);
        });
        using var calls = Calls(upstream.Port);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        HttpCallResult result = await CallAsync(calls, timeoutMs: 300);

        Assert.False(result.Succeeded);
        Assert.Equal("timeout", result.FailureReason);
        Assert.InRange(clock.ElapsedMilliseconds, 250, 3000);
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == 1), "the stalled connection stayed open");
    }

    [Fact]
    public async Task CloseDelimitedBody_IsNotReused()
    {
        await using var upstream = new TestUpstream(async (_, s) =>
        {
            await TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\n\r\nuntil close");
            s.Socket.Shutdown(SocketShutdown.Send);
        });
        using var calls = Calls(upstream.Port);
        Assert.Equal("until close", BodyOf(await CallAsync(calls)));
        Assert.Equal("until close", BodyOf(await CallAsync(calls)));
        Assert.Equal(2, upstream.ConnectionCount);
    }

    [Fact]
    public async Task BytesPastTheResponse_AreNeverTakenAsTheNextResponse()
    {
        int requests = 0;
        await using var upstream = new TestUpstream((r, s) => Interlocked.Increment(ref requests) == 1
            ? TestUpstream.WriteAsync(s, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale")
            : TestUpstream.OkAsync(r, s));
        using var calls = Calls(upstream.Port);
        Assert.Equal("ok", BodyOf(await CallAsync(calls)));
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        Assert.Equal(2, upstream.ConnectionCount);
    }

    [Fact]
    public async Task TlsCluster_TwoCallsOneHandshake()
    {
        using var folder = new TempFolder("gateway-callout-reuse-");
        using X509Certificate2 ca = TestCertificates.CreateCa();
        await using var upstream = new TlsTestUpstream(TestCertificates.IssueLeaf(ca, ["auth.internal"]));
        using var calls = TlsCalls(upstream, folder, ca);
        Assert.Equal("secure", BodyOf(await CallAsync(calls)));
        Assert.Equal("secure", BodyOf(await CallAsync(calls)));
        Assert.Equal(1, upstream.Connections);
        Assert.Equal(2, upstream.Heads.Count);
    }

    /// <summary>
    /// Bytes past a TLS response in a record of their own, read by the TLS layer together with the response: the socket
    /// shows nothing, yet the connection is not reused and the bytes never answer the next call.
    /// </summary>
    [Fact]
    public async Task TlsRecordPastTheResponse_IsNeverTakenAsTheNextResponse()
    {
        using var folder = new TempFolder("gateway-callout-reuse-");
        using X509Certificate2 ca = TestCertificates.CreateCa();
        // A first response of exactly one full record (16 KiB), which the reader takes in whole buffers.
        string head = "HTTP/1.1 200 OK\r\ncontent-length: 16342\r\n\r\n";
        string body = new('x', 16384 - head.Length);
        await using var upstream = new TlsTestUpstream(
            TestCertificates.IssueLeaf(ca, ["auth.internal"]), (head + body, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale"));
        using var calls = TlsCalls(upstream, folder, ca);
        Assert.Equal(body, BodyOf(await CallAsync(calls)));
        Assert.Equal("secure", BodyOf(await CallAsync(calls)));
        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task Dispose_ClosesTheIdleConnections()
    {
        await using var upstream = new TestUpstream();
        var calls = Calls(upstream.Port);
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(0, upstream.EndedConnections);
        calls.Dispose();
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == 1), "the idle connection stayed open");
    }

    [Fact]
    public async Task Dispose_CallInFlightFinishes_ThenItsConnectionCloses()
    {
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            await answer.Task;
            await TestUpstream.OkAsync(r, s);
        });
        var calls = Calls(upstream.Port);
        Task<HttpCallResult> call = CallAsync(calls);
        Assert.True(await EventuallyAsync(() => !upstream.Requests.IsEmpty), "the call never arrived");
        calls.Dispose();
        answer.SetResult();
        Assert.Equal("hello", BodyOf(await call));
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == 1), "the connection was kept after dispose");
    }

    [Fact]
    public async Task IdleTimeout_ClosesTheConnection_TheNextCallOpensANewOne()
    {
        await using var upstream = new TestUpstream();
        using var calls = Calls(upstream.Port, idleTimeoutMs: 200);
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        // Closed by the sweep, with no call coming to find it expired.
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == 1), "the idle connection outlived its timeout");
        Assert.Equal("hello", BodyOf(await CallAsync(calls)));
        Assert.Equal(2, upstream.ConnectionCount);
    }

    [Fact]
    public async Task Burst_KeepsAtMostTheBoundIdle()
    {
        const int Burst = ClusterHttpCalls.MaxIdleConnectionsPerEndpoint + 4;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int arrived = 0;
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            // Every call holds its connection until all arrived, so each had to open its own.
            if (Interlocked.Increment(ref arrived) == Burst)
            {
                all.TrySetResult();
            }
            await all.Task;
            await TestUpstream.OkAsync(r, s);
        });
        using var calls = Calls(upstream.Port);
        HttpCallResult[] results = await Task.WhenAll(Enumerable.Range(0, Burst).Select(_ => CallAsync(calls)));
        Assert.All(results, r => Assert.Equal("hello", BodyOf(r)));
        Assert.Equal(Burst, upstream.ConnectionCount);
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == Burst - ClusterHttpCalls.MaxIdleConnectionsPerEndpoint),
            $"{upstream.EndedConnections} connections closed after the burst");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(Burst - ClusterHttpCalls.MaxIdleConnectionsPerEndpoint, upstream.EndedConnections);
    }

    [Fact]
    public async Task Reload_UnchangedCluster_TheNextClientReusesTheConnection_AndKeepsItPastTheOldOnesDisposal()
    {
        await using var upstream = new TestUpstream();
        var first = Calls(upstream.Port);
        Assert.Equal("hello", BodyOf(await CallAsync(first)));
        // Options built anew from the same config, as a reload builds them: equal, not the same objects.
        using var second = Calls(upstream.Port, previous: first);
        Assert.Equal("hello", BodyOf(await CallAsync(second)));
        Assert.Equal(1, upstream.ConnectionCount);

        first.Dispose();
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(0, upstream.EndedConnections);
        Assert.Equal("hello", BodyOf(await CallAsync(second)));
        Assert.Equal(1, upstream.ConnectionCount);
        Assert.All(upstream.Requests, r => Assert.Equal(1, r.ConnectionId));

        second.Dispose();
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == 1), "the last holder's dispose left the connection open");
    }

    [Fact]
    public async Task Reload_UnchangedTlsCluster_FilesReread_NoSecondHandshake()
    {
        using var folder = new TempFolder("gateway-callout-reuse-");
        using X509Certificate2 ca = TestCertificates.CreateCa();
        await using var upstream = new TlsTestUpstream(TestCertificates.IssueLeaf(ca, ["auth.internal"]));
        using var first = TlsCalls(upstream, folder, ca);
        Assert.Equal("secure", BodyOf(await CallAsync(first)));
        using var second = TlsCalls(upstream, folder, ca, previous: first);
        Assert.Equal("secure", BodyOf(await CallAsync(second)));
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task Reload_TlsClusterTrustingAnotherCa_StartsOver()
    {
        using var folder = new TempFolder("gateway-callout-reuse-");
        using X509Certificate2 ca = TestCertificates.CreateCa();
        using X509Certificate2 otherCa = TestCertificates.CreateCa();
        await using var upstream = new TlsTestUpstream(TestCertificates.IssueLeaf(ca, ["auth.internal"]));
        using var first = TlsCalls(upstream, folder, ca);
        Assert.Equal("secure", BodyOf(await CallAsync(first)));
        // The same path holding another CA: the kept connection was verified against trust the next client no longer has.
        using var second = TlsCalls(upstream, folder, otherCa, previous: first);
        HttpCallResult refused = await CallAsync(second);
        Assert.False(refused.Succeeded);
        Assert.Equal("upstream TLS handshake failed", refused.FailureReason);
        Assert.Single(upstream.Heads);
    }

    /// <summary>A changed cluster, or one of another name, gets no connection of the old one's; those close with the old client.</summary>
    [Theory]
    [InlineData("pooledIdleTimeoutMs")]
    [InlineData("name")]
    public async Task Reload_ChangedCluster_StartsOver_AndTheOldConnectionClosesWithTheOldClient(string change)
    {
        await using var upstream = new TestUpstream();
        var first = Calls(upstream.Port);
        Assert.Equal("hello", BodyOf(await CallAsync(first)));
        using var second = change == "name"
            ? Calls(upstream.Port, previous: first, cluster: "authsvc2")
            : Calls(upstream.Port, idleTimeoutMs: ClusterOptions.DefaultPooledIdleTimeoutMs + 1, previous: first);
        string cluster = change == "name" ? "authsvc2" : "authsvc";
        Assert.Equal("hello", BodyOf(await CallAsync(second, cluster: cluster)));
        Assert.Equal(2, upstream.ConnectionCount);

        first.Dispose();
        Assert.True(await EventuallyAsync(() => upstream.EndedConnections == 1), "the old client's connection outlived it");
        Assert.Equal("hello", BodyOf(await CallAsync(second, cluster: cluster)));
        Assert.Equal(2, upstream.ConnectionCount);
        Assert.Equal(1, upstream.EndedConnections);
    }

    /// <summary>A call in flight on the replaced client gives its connection to the next one, which reuses it.</summary>
    [Fact]
    public async Task Reload_CallInFlightOnTheOldClient_ItsConnectionGoesToTheNextOne()
    {
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int requests = 0;
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            if (Interlocked.Increment(ref requests) == 1)
            {
                await answer.Task;
            }
            await TestUpstream.OkAsync(r, s);
        });
        var first = Calls(upstream.Port);
        Task<HttpCallResult> call = CallAsync(first);
        Assert.True(await EventuallyAsync(() => !upstream.Requests.IsEmpty), "the call never arrived");
        using var second = Calls(upstream.Port, previous: first);
        first.Dispose();
        answer.SetResult();
        Assert.Equal("hello", BodyOf(await call));

        Assert.Equal("hello", BodyOf(await CallAsync(second)));
        Assert.Equal(1, upstream.ConnectionCount);
        Assert.Equal(0, upstream.EndedConnections);
    }

    /// <summary>A refused reload disposes the client it built: the running one keeps the connections it shared.</summary>
    [Fact]
    public async Task Reload_Refused_TheRunningClientKeepsItsConnections()
    {
        await using var upstream = new TestUpstream();
        using var running = Calls(upstream.Port);
        Assert.Equal("hello", BodyOf(await CallAsync(running)));
        Calls(upstream.Port, previous: running).Dispose();
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(0, upstream.EndedConnections);
        Assert.Equal("hello", BodyOf(await CallAsync(running)));
        Assert.Equal(1, upstream.ConnectionCount);
    }
}
