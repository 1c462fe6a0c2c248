using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Gateway.Testing;

namespace Gateway.Functional.Tests.FirstPartyPlugins;

/// <summary>
/// A real redis-server child process on a free loopback port, without persistence. It can be stopped
/// (by its PID) and restarted on the same port to play an outage.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;

    private readonly bool _debugCommands;

    private RedisServer(int port, bool debugCommands)
    {
        Port = port;
        _debugCommands = debugCommands;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <param name="debugCommands">Allow DEBUG (e.g. DEBUG SLEEP to stall the server) from loopback.</param>
    public static async Task<RedisServer> StartAsync(bool debugCommands = false)
    {
        var server = new RedisServer(GatewayProcess.FreePort(), debugCommands);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on the same port and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(argument);
        }
        if (_debugCommands)
        {
            info.ArgumentList.Add("--enable-debug-command");
            info.ArgumentList.Add("local");
        }
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                if ((await CommandAsync("PING")).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Kills the server by its PID (an outage, not a clean shutdown) and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>Sends one command and returns the raw RESP reply.</summary>
    public async Task<string> CommandAsync(params string[] arguments)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        NetworkStream stream = client.GetStream();
        var command = new StringBuilder().Append('*').Append(arguments.Length).Append("\r\n");
        foreach (string argument in arguments)
        {
            command.Append('$').Append(Encoding.UTF8.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
        }
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command.ToString()));
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read = await stream.ReadAsync(buffer, timeout.Token);
        if (read == 0)
        {
            throw new IOException("redis closed the connection");
        }
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
