using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Testing.Redis;

/// <summary>
/// One redis-server (or redis-sentinel) child process in its own temp folder, on a free loopback port, without
/// persistence, with a unix socket for the test's own plain-text commands (so TLS-only servers are reachable too).
/// Stopped by its PID.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly string[] _arguments;
    private readonly string _executable;
    private Process? _process;
    private ClosedPort? _heldPort;

    private RedisProcess(string executable, int port, string directory, string[] arguments)
    {
        _executable = executable;
        Port = port;
        Directory = directory;
        _arguments = arguments;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public string Directory { get; }

    public string SocketPath => Path.Combine(Directory, "redis.sock");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts redis-server with <paramref name="extraArguments"/> (config directives as <c>--name value</c>).</summary>
    public static Task<RedisProcess> StartAsync(params string[] extraArguments) => StartAsync(tls: false, sentinel: false, extraArguments);

    /// <param name="tls">The port is the TLS port and the plain port is off; the unix socket stays plain.</param>
    /// <param name="sentinel">Runs in Sentinel mode, from a config file in its folder (Sentinel rewrites it).</param>
    public static async Task<RedisProcess> StartAsync(bool tls, bool sentinel, params string[] extraArguments)
    {
        for (int attempt = 1; ; attempt++)
        {
            RedisProcess process = Prepare(FreePort(), tls, sentinel, extraArguments);
            try
            {
                await process.RestartAsync();
                return process;
            }
            catch (Exception) when (attempt < 3 && !process.IsRunning)
            {
                // A free port is free when picked, not necessarily when the server binds it: another one.
                await process.DisposeAsync();
            }
            catch (Exception)
            {
                // The last attempt: the server and its folder go with the failure.
                await process.DisposeAsync();
                throw;
            }
        }
    }

    private static RedisProcess Prepare(int port, bool tls, bool sentinel, string[] extraArguments)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("gw-redis-").FullName;
        var arguments = new List<string>();
        if (sentinel)
        {
            string config = Path.Combine(directory, "sentinel.conf");
            File.WriteAllText(config, "");
            arguments.AddRange([config, "--sentinel"]);
        }

        arguments.AddRange(new[]
        {
            "--bind", "127.0.0.1", "--dir", directory, "--daemonize", "no",
            "--logfile", Path.Combine(directory, "redis.log"), "--unixsocket", Path.Combine(directory, "redis.sock"), "--unixsocketperm", "700",
        });
        if (!sentinel)
        {
            arguments.AddRange(["--save", "", "--appendonly", "no"]);
        }

        arguments.AddRange(tls ? ["--port", "0", "--tls-port", port.ToString()] : ["--port", port.ToString()]);
        if (extraArguments.Contains("--cluster-enabled"))
        {
            // A Cluster node's bus port is its port + 10000 unless named, which fails for ports above 55535 (about a
            // fifth of the free ports the kernel hands out): a free port of its own.
            arguments.AddRange(["--cluster-port", FreePort().ToString()]);
        }
        arguments.AddRange(extraArguments);
        return new RedisProcess("redis-server", port, directory, [.. arguments]);
    }

    /// <summary>Starts the process (again) with the same port and folder, and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        _heldPort?.Dispose();
        _heldPort = null;
        var info = new ProcessStartInfo(_executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"{_executable} did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                // A server started with --requirepass answers NOAUTH until AUTH: it is up all the same.
                string reply = await CommandAsync("PING");
                if (reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when ((e is SocketException or IOException) && DateTime.UtcNow < deadline && IsRunning)
            {
            }

            if (!IsRunning)
            {
                throw new InvalidOperationException($"{_executable} exited: {Log()}");
            }

            await Task.Delay(30);
        }
    }

    /// <summary>
    /// Kills the process by its PID (an outage, not a clean shutdown) and waits until it is gone. Until it restarts,
    /// its port stays bound without listening: connections are refused as by a stopped server, and the kernel hands
    /// the port to no other test's server meanwhile (a stopped Redis whose port another Redis took answers again).
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }

        _process?.Dispose();
        _process = null;
        _heldPort ??= ClosedPort.TryHold(Port);
    }

    /// <summary>Sends one command over the unix socket and returns the raw RESP reply.</summary>
    public async Task<string> CommandAsync(params string[] arguments)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
        using var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encode(arguments));
        var buffer = new byte[1 << 20];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read = await stream.ReadAsync(buffer, timeout.Token);
        if (read == 0)
        {
            throw new IOException("redis closed the connection");
        }

        // Long replies (INFO, CLUSTER NODES) may arrive in pieces: read what is already there.
        int total = read;
        while (socket.Available > 0 && total < buffer.Length)
        {
            total += await stream.ReadAsync(buffer.AsMemory(total), timeout.Token);
        }

        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    /// <summary>The server's log, for failure messages.</summary>
    public string Log()
    {
        string path = Path.Combine(Directory, "redis.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public static byte[] Encode(params string[] arguments)
    {
        var command = new StringBuilder().Append('*').Append(arguments.Length).Append("\r\n");
        foreach (string argument in arguments)
        {
            command.Append('$').Append(Encoding.UTF8.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(command.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _heldPort?.Dispose();
        _heldPort = null;
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
