using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Testing.Sql;

/// <summary>Running the database tools the SQL server fixtures need: free ports, commands, signals by PID.</summary>
internal static class ServerProcess
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Binds port 0 on loopback and releases it, so a server process can take the port the kernel chose.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// Runs a command to completion (as <paramref name="asUser"/> when we are root) and returns its output; throws on a
    /// non-zero exit, and kills it with what it started when it outlives <paramref name="timeout"/> (60 s if not given).
    /// </summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, string? asUser = null, TimeSpan? timeout = null)
    {
        ProcessStartInfo start = StartInfo(fileName, arguments, asUser);
        var (exit, stdout, stderr) = await CommandRun.CaptureAsync(start.FileName, start.ArgumentList, limit: timeout ?? TimeSpan.FromSeconds(60));
        if (exit != 0)
        {
            throw new InvalidOperationException($"{fileName} exited with {exit}: {stderr}{stdout}");
        }

        return stdout.Trim();
    }

    /// <summary>Starts a long-running server whose output is discarded; the caller stops it by PID.</summary>
    public static Process Launch(string fileName, IEnumerable<string> arguments, string? asUser = null)
    {
        var process = Process.Start(StartInfo(fileName, arguments, asUser))!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/> and waits until the process is gone.</summary>
    public static async Task SignalAndWaitAsync(int pid, int signal, TimeSpan timeout)
    {
        Process process;
        try
        {
            process = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return; // already gone
        }

        using (process)
        {
            _ = Kill(pid, signal);
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
    }

    public static async Task<bool> CanConnectAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, string? asUser)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asUser is not null && IsRoot)
        {
            start.FileName = "runuser";
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(asUser);
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(fileName);
        }
        else
        {
            start.FileName = fileName;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Sends <paramref name="signal"/> to a process the tests started.</summary>
    public static void Signal(int pid, int signal) => _ = Kill(pid, signal);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
