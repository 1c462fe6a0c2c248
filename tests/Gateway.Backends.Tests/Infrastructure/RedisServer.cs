using System.Diagnostics;
using System.Net.Sockets;

namespace Gateway.Backends.Tests;

/// <summary>A private redis-server on a free loopback port in a temp dir; stopped by PID.</summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gw-redis-");
    private Process? _process;

    public int Port { get; } = FreePort.Next();

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>Password the server requires at start (null = none).</summary>
    public string? RequirePass { get; set; }

    public async ValueTask InitializeAsync() => await StartAsync();

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false };
        foreach (var argument in new[]
        {
            "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", _directory.FullName, "--save", "", "--appendonly", "no",
            "--enable-debug-command", "yes", "--daemonize", "no", "--logfile", Path.Combine(_directory.FullName, "redis.log"),
        })
        {
            start.ArgumentList.Add(argument);
        }

        if (RequirePass is not null)
        {
            start.ArgumentList.Add("--requirepass");
            start.ArgumentList.Add(RequirePass);
        }

        _process = Process.Start(start)!;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20);
            }
        }
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>A fresh admin connection, authenticated with <paramref name="password"/> when given.</summary>
    public async Task<RawRedisClient> ConnectAsync(string? password = null)
    {
        var client = await RawRedisClient.ConnectAsync(Port);
        if (password is not null)
        {
            await client.SendAsync("AUTH", password);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _directory.Delete(recursive: true);
    }
}
