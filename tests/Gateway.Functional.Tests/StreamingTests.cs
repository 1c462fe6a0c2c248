using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests;

/// <summary>Bodies are streamed, never buffered whole: 1 GiB each way with the gateway's memory bounded.</summary>
public sealed class StreamingTests
{
    private const long OneGiB = 1L << 30;
    private const long MemoryBudget = 50L << 20;

    [Fact]
    public async Task OneGiBUpload_StreamsThroughWithBoundedMemory()
    {
        long received = 0;
        await using var upstream = new SinkUpstream(bytes => Interlocked.Add(ref received, bytes));
        await using var gateway = await GatewayProcess.StartAsync(
            TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1, limits: $"\"maxBodyBytes\": {OneGiB * 2}"));
        await WarmUpAsync(gateway.Port);
        Interlocked.Exchange(ref received, 0);
        long baseline = gateway.ResidentBytes();
        long peak = baseline;

        using var client = new RawClient(gateway.Port);
        await client.SendAsync($"POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: {OneGiB}\r\n\r\n");
        byte[] block = new byte[256 * 1024];
        for (long sent = 0; sent < OneGiB; sent += block.Length)
        {
            await client.Stream.WriteAsync(block, TestContext.Current.CancellationToken);
            if ((sent & ((64 << 20) - 1)) == 0)
            {
                peak = Math.Max(peak, gateway.ResidentBytes());
            }
        }
        var response = await client.ReadResponseAsync(timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(200, response!.Status);
        Assert.Equal(OneGiB, Interlocked.Read(ref received));
        Assert.True(peak - baseline < MemoryBudget, $"gateway RSS grew by {(peak - baseline) >> 20} MiB");
    }

    [Fact]
    public async Task OneGiBDownload_StreamsThroughWithBoundedMemory()
    {
        await using var upstream = new TestUpstream(async (r, s) =>
        {
            await TestUpstream.WriteAsync(s, $"HTTP/1.1 200 OK\r\ncontent-length: {OneGiB}\r\n\r\n");
            byte[] block = new byte[256 * 1024];
            for (long sent = 0; sent < OneGiB; sent += block.Length)
            {
                await s.WriteAsync(block);
            }
        });
        await using var gateway = await GatewayProcess.StartAsync(TestConfig.Proxy(TestConfig.Quote(upstream.Endpoint), workers: 1));
        await WarmUpAsync(gateway.Port);
        long baseline = gateway.ResidentBytes();
        long peak = baseline;

        using var client = new RawClient(gateway.Port);
        await client.SendAsync(RawClient.Get("/big"));
        var head = await client.ReadResponseAsync(headOnly: true);
        Assert.Equal(200, head!.Status);
        long total = 0;
        while (total < OneGiB)
        {
            long chunk = await client.Reader.SkipAsync(Math.Min(64 << 20, OneGiB - total), TestContext.Current.CancellationToken);
            Assert.True(chunk > 0, "download ended early");
            total += chunk;
            peak = Math.Max(peak, gateway.ResidentBytes());
        }
        Assert.Equal(OneGiB, total);
        Assert.True(peak - baseline < MemoryBudget, $"gateway RSS grew by {(peak - baseline) >> 20} MiB");
    }

    private static async Task WarmUpAsync(int port)
    {
        using var client = new RawClient(port);
        await client.SendAsync("POST /warm HTTP/1.1\r\nhost: a.test\r\ncontent-length: 5\r\n\r\nhello");
        await client.ReadResponseAsync();
    }

    /// <summary>An upstream that counts and discards request bodies as they arrive.</summary>
    private sealed class SinkUpstream : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
        private readonly Task _loop;

        public SinkUpstream(Action<long> onBytes)
        {
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (true)
                {
                    TcpClient c;
                    try
                    {
                        c = await _listener.AcceptTcpClientAsync();
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        return;
                    }
                    _ = ServeAsync(c, onBytes);
                }
            });
        }

        public string Endpoint => _listener.LocalEndpoint.ToString()!;

        private static async Task ServeAsync(TcpClient c, Action<long> onBytes)
        {
            using var _ = c;
            var stream = c.GetStream();
            var reader = new ByteReader(stream);
            try
            {
                while (await reader.ReadHeadAsync() is { } head)
                {
                    long length = long.Parse(new ReceivedRequest(head, [], 0).Header("content-length") ?? "0");
                    long got = 0;
                    while (got < length)
                    {
                        long n = await reader.SkipAsync(Math.Min(length - got, 1 << 20));
                        if (n == 0)
                        {
                            return;
                        }
                        got += n;
                        onBytes(n);
                    }
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
                }
            }
            catch (IOException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _loop;
        }
    }
}
