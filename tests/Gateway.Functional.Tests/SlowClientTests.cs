using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>
/// TO-2 (request body progress) and TO-4 (slow readers), through the real gateway with short limits: a
/// client that trickles its body or stops reading loses its connection, and so does the upstream exchange
/// it held; clients that are slow but keep up are left alone.
/// </summary>
public sealed class SlowClientTests
{
    private const int Window = 1000;
    private const int WriteTimeout = 1000;
    private const long BigResponse = 64L << 20;

    private static readonly string Limits =
        $"\"minRequestBodyBytesPerSecond\": 1024, \"requestBodyRateWindowMs\": {Window}, \"requestBodyTimeoutMs\": 20000, " +
        $"\"responseWriteTimeoutMs\": {WriteTimeout}, \"maxBodyBytes\": {64 << 20}";

    [Fact]
    public async Task TrickledBody_Gets408AndUpstreamConnectionCloses()
    {
        await using var upstream = new WatchedUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: Limits));
        using var client = new RawClient(gateway.Port);
        using var stopTrickle = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var clock = Stopwatch.StartNew();
        await client.SendAsync("POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: 100000\r\n\r\n");
        Task trickle = TrickleAsync(client.Stream, TimeSpan.FromMilliseconds(200), stopTrickle.Token);
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(15));
        TimeSpan answeredAfter = clock.Elapsed;
        await stopTrickle.CancelAsync();
        await trickle;

        Assert.Equal(408, response?.Status);
        Assert.True(response!.Closes, "a 408 for a body in progress must close the connection");
        Assert.InRange(answeredAfter, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(10));
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)), "the gateway kept the connection open");
        Assert.Equal(1, upstream.Accepted);
        Assert.True(await upstream.AllClosedAsync(TimeSpan.FromSeconds(10)), "the upstream connection of the aborted request stayed open");
        Assert.True(await MetricAsync(gateway, "gateway_client_timeouts_total{timeout=\"request_body_rate\"} 1"), "the rate timeout was not counted");
        Assert.True(await LoggedAsync(gateway, "request_body_rate"), "the rate timeout was not logged");
    }

    [Fact]
    public async Task BodyPastItsDeadline_Gets408EvenAtAGoodRate()
    {
        await using var upstream = new WatchedUpstream();
        string limits = Limits.Replace("\"requestBodyTimeoutMs\": 20000", "\"requestBodyTimeoutMs\": 1500", StringComparison.Ordinal);
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: limits));
        using var client = new RawClient(gateway.Port);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var clock = Stopwatch.StartNew();
        await client.SendAsync("POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: 10000000\r\n\r\n");
        // 2 KiB every 100 ms: twenty times the minimum rate, but 10 MB would take most of a minute.
        Task send = SendPacedAsync(client.Stream, 2048, TimeSpan.FromMilliseconds(100), stop.Token);
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(15));
        TimeSpan answeredAfter = clock.Elapsed;
        await stop.CancelAsync();
        await send;

        Assert.Equal(408, response?.Status);
        Assert.InRange(answeredAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        Assert.True(await upstream.AllClosedAsync(TimeSpan.FromSeconds(10)), "the upstream connection of the aborted request stayed open");
        Assert.True(await MetricAsync(gateway, "gateway_client_timeouts_total{timeout=\"request_body\"} 1"), "the body deadline was not counted");
        Assert.True(await MetricAsync(gateway, "gateway_client_timeouts_total{timeout=\"request_body_rate\"} 0"), "a client above the minimum rate was counted as too slow");
    }

    [Fact]
    public async Task LargeBodyAtNormalPace_PassesUnderTheSameLimits()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: Limits));
        using var client = new RawClient(gateway.Port);
        byte[] body = new byte[20 << 20];
        Random.Shared.NextBytes(body);

        await client.SendAsync($"POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: {body.Length}\r\n\r\n");
        await client.SendAsync(body);
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(60));

        Assert.Equal(200, response?.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal(body, received.Body);
    }

    [Fact]
    public async Task SlowButSteadyBody_IsNotCut()
    {
        await using var upstream = new TestUpstream();
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: Limits));
        using var client = new RawClient(gateway.Port);
        const int Length = 30 * 1024;

        // 1 KiB every 50 ms: 20 KiB/s for three rate windows, with a pause of a third of a window in the middle.
        await client.SendAsync($"POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: {Length}\r\n\r\n");
        for (int sent = 0; sent < Length; sent += 1024)
        {
            await client.SendAsync(new byte[1024]);
            await Task.Delay(sent == Length / 2 ? 330 : 50, TestContext.Current.CancellationToken);
        }
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(200, response?.Status);
        Assert.True(upstream.Requests.TryDequeue(out var received));
        Assert.Equal(Length, received.Body.Length);
        Assert.True(await MetricAsync(gateway, "gateway_client_timeouts_total{timeout=\"request_body_rate\"} 0"), "a steady client was counted as too slow");
    }

    [Fact]
    public async Task UpstreamSlowToReadTheBody_ClientNotBlamed()
    {
        // The upstream reads nothing for three rate windows; 32 MiB is more than the sockets between can hold.
        await using var upstream = new LateReadingUpstream(TimeSpan.FromMilliseconds(3 * Window));
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: Limits));
        using var client = new RawClient(gateway.Port);
        byte[] body = new byte[32 << 20];

        await client.SendAsync($"POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: {body.Length}\r\n\r\n");
        await client.SendAsync(body);
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(200, response?.Status);
        Assert.Equal(body.Length, upstream.BodyBytes);
        Assert.True(await MetricAsync(gateway, "gateway_client_timeouts_total{timeout=\"request_body_rate\"} 0"), "the upstream's slowness was counted against the client");
    }

    [Fact]
    public async Task ClientThatNeverReads_ResetAfterWriteTimeoutAndUpstreamClosed()
    {
        var upstreamClosed = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new Stopwatch();
        await using var upstream = new TestUpstream(async (request, stream) =>
        {
            if (!request.RequestLine.Contains("/big", StringComparison.Ordinal))
            {
                await TestUpstream.OkAsync(request, stream);
                return;
            }
            try
            {
                await WriteBigResponseAsync(stream);
            }
            catch (IOException)
            {
                upstreamClosed.TrySetResult(clock.Elapsed);
                throw;
            }
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: Limits));
        using var client = new RawClient(gateway.Port);

        clock.Start();
        await client.SendAsync(RawClient.Get("/big"));
        TimeSpan closedAfter = await upstreamClosed.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.InRange(closedAfter, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(10));
        Assert.True(await MetricAsync(gateway, "gateway_client_timeouts_total{timeout=\"response_write\"} 1"), "the stalled write was not counted");
        Assert.True(await LoggedAsync(gateway, "response_write"), "the stalled write was not logged");
        // What the client finds when it finally reads: the connection ended long before the body did.
        long delivered = await DrainAsync(client.Stream, TimeSpan.FromSeconds(10));
        Assert.InRange(delivered, 0, BigResponse - 1);
        using var next = new RawClient(gateway.Port);
        await next.SendAsync(RawClient.Get("/small"));
        Assert.Equal(200, (await next.ReadResponseAsync(timeout: TimeSpan.FromSeconds(10)))?.Status);
    }

    [Fact]
    public async Task SlowButSteadyReader_ReceivesTheWholeResponse()
    {
        // Well past what the sockets' buffers hold, so the gateway writes for most of the transfer.
        const long Length = 12L << 20;
        await using var upstream = new TestUpstream(async (_, stream) =>
        {
            await TestUpstream.WriteAsync(stream, $"HTTP/1.1 200 OK\r\ncontent-length: {Length}\r\n\r\n");
            await stream.WriteAsync(new byte[Length]);
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), limits: Limits));
        using var client = new RawClient(gateway.Port);

        var clock = Stopwatch.StartNew();
        await client.SendAsync(RawClient.Get("/slow"));
        var head = await client.ReadResponseAsync(headOnly: true);
        Assert.Equal(200, head?.Status);
        // 64 KiB every 20 ms: about 3 MB/s, so each write waits tens of milliseconds, never the timeout.
        long total = 0;
        while (total < Length)
        {
            long n = await client.Reader.SkipAsync(Math.Min(64 * 1024, Length - total), TestContext.Current.CancellationToken);
            Assert.True(n > 0, $"the response ended after {total} bytes");
            total += n;
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal(Length, total);
        // The whole response took longer than the write timeout: the timeout bounds one write, not the response.
        Assert.True(clock.Elapsed > TimeSpan.FromMilliseconds(2 * WriteTimeout), $"the response was read in {clock.Elapsed}");
        Assert.True(await MetricAsync(gateway, "gateway_client_timeouts_total{timeout=\"response_write\"} 0"), "a steady reader was counted as stalled");
    }

    [Fact]
    public async Task PipelinedClientThatReadsLate_GetsEveryResponseOnItsConnection()
    {
        // Small bodies that come whole with their heads, asked for faster than the client reads: the gateway's sends fill
        // the sockets, a flush after such a body waits for room, and the exchange must go on, on its worker, once the
        // client reads again.
        const int Requests = 1000;
        const int BodyLength = 8 * 1024;
        string response = $"HTTP/1.1 200 OK\r\ncontent-length: {BodyLength}\r\n\r\n" + new string('x', BodyLength);
        await using var upstream = new TestUpstream((_, stream) => TestUpstream.WriteAsync(stream, response));
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint)));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
        await socket.ConnectAsync(IPAddress.Loopback, gateway.Port, TestContext.Current.CancellationToken);
        using var stream = new NetworkStream(socket);

        await stream.WriteAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(RawClient.Get("/small"), Requests))), TestContext.Current.CancellationToken);
        // 8 MB of answers: more than the gateway's send buffer and the client's receive buffer hold while nobody reads.
        await Task.Delay(1000, TestContext.Current.CancellationToken);

        long expected = (long)Requests * Encoding.ASCII.GetByteCount(response);
        long delivered = await DrainAsync(stream, TimeSpan.FromSeconds(30), expected);
        Assert.Equal(expected, delivered);
        Assert.DoesNotContain("connection_failed", gateway.Output, StringComparison.Ordinal);
    }

    private static async Task TrickleAsync(NetworkStream stream, TimeSpan every, CancellationToken stop)
    {
        byte[] one = "x"u8.ToArray();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await stream.WriteAsync(one, stop);
                await Task.Delay(every, stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Stopped by the test, or the gateway closed the connection.
        }
    }

    private static async Task SendPacedAsync(NetworkStream stream, int size, TimeSpan every, CancellationToken stop)
    {
        byte[] block = new byte[size];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await stream.WriteAsync(block, stop);
                await Task.Delay(every, stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
        }
    }

    private static async Task WriteBigResponseAsync(NetworkStream stream)
    {
        await TestUpstream.WriteAsync(stream, $"HTTP/1.1 200 OK\r\ncontent-length: {BigResponse}\r\n\r\n");
        byte[] block = new byte[256 * 1024];
        for (long sent = 0; sent < BigResponse; sent += block.Length)
        {
            await stream.WriteAsync(block);
        }
    }

    /// <summary>Reads until EOF or reset, within <paramref name="limit"/>; how many bytes came.</summary>
    /// <summary>Reads until the connection ends or <paramref name="until"/> bytes came; throws when <paramref name="limit"/> passes first.</summary>
    private static async Task<long> DrainAsync(NetworkStream stream, TimeSpan limit, long until = long.MaxValue)
    {
        using var timeout = new CancellationTokenSource(limit);
        byte[] buffer = new byte[256 * 1024];
        long total = 0;
        try
        {
            int n;
            while (total < until && (n = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                total += n;
            }
        }
        catch (IOException)
        {
            // Reset: what the gateway does to a client that stopped reading.
        }
        return total;
    }

    private static Task<bool> MetricAsync(GatewayProcess gateway, string line) =>
        EventuallyAsync(async () => (await gateway.AdminGetAsync("/metrics")).Contains(line, StringComparison.Ordinal));

    /// <summary>The gateway's output is read asynchronously: a client_timeout event may show a moment after its effect.</summary>
    private static Task<bool> LoggedAsync(GatewayProcess gateway, string cause) =>
        EventuallyAsync(() => Task.FromResult(gateway.LogEntries("client_timeout").Any(e => (string?)e["cause"] == cause)));

    private static Task<bool> EventuallyAsync(Func<Task<bool>> condition) =>
        Eventually.HoldsAsync(condition, TestContext.Current.CancellationToken);

    /// <summary>An upstream that waits before it reads a request, then takes the whole body and answers 200.</summary>
    private sealed class LateReadingUpstream : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Task _serving;
        private long _bodyBytes;

        public LateReadingUpstream(TimeSpan delay)
        {
            _listener.Start();
            _serving = ServeOneAsync(delay);
        }

        public string Endpoint => _listener.LocalEndpoint.ToString()!;

        public long BodyBytes => Interlocked.Read(ref _bodyBytes);

        private async Task ServeOneAsync(TimeSpan delay)
        {
            try
            {
                using Socket socket = await _listener.AcceptSocketAsync();
                await Task.Delay(delay);
                using var stream = new NetworkStream(socket);
                var reader = new ByteReader(stream);
                string head = await reader.ReadHeadAsync() ?? throw new IOException("no request");
                long length = long.Parse(new ReceivedRequest(head, [], 0).Header("content-length")!);
                Interlocked.Exchange(ref _bodyBytes, await reader.SkipAsync(length));
                await TestUpstream.WriteAsync(stream, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                // The gateway went away, or the test ended first.
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _serving;
        }
    }

    /// <summary>An upstream that reads whatever arrives and records when each of its connections ends.</summary>
    private sealed class WatchedUpstream : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Task> _connections = [];
        private readonly List<Socket> _sockets = [];
        private readonly Task _accepting;

        public WatchedUpstream()
        {
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public string Endpoint => _listener.LocalEndpoint.ToString()!;

        public int Accepted
        {
            get
            {
                lock (_connections)
                {
                    return _connections.Count;
                }
            }
        }

        /// <summary>True when every accepted connection has been closed by the gateway within <paramref name="limit"/>.</summary>
        public async Task<bool> AllClosedAsync(TimeSpan limit)
        {
            Task[] connections;
            lock (_connections)
            {
                connections = [.. _connections];
            }
            try
            {
                await Task.WhenAll(connections).WaitAsync(limit);
                return connections.Length > 0;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                lock (_connections)
                {
                    _sockets.Add(socket);
                    _connections.Add(ReadUntilClosedAsync(socket));
                }
            }
        }

        private static async Task ReadUntilClosedAsync(Socket socket)
        {
            byte[] buffer = new byte[64 * 1024];
            try
            {
                while (await socket.ReceiveAsync(buffer, SocketFlags.None) > 0)
                {
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // A reset is a close too; disposal ends a connection the test left open.
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _accepting;
            Task[] connections;
            lock (_connections)
            {
                foreach (Socket socket in _sockets)
                {
                    socket.Dispose();
                }
                connections = [.. _connections];
            }
            await Task.WhenAll(connections);
        }
    }
}
