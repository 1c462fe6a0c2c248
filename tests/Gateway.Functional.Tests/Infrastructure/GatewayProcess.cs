using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gateway.Testing;

/// <summary>
/// A real gateway process started for one test: the JIT build next to the tests (gateway.dll), or the
/// published AOT binary when <c>aot</c> is set. Listener and admin ports are 0 in the config; the bound
/// ports are read back from the gateway's own JSON log lines. Disposing kills the process if it still runs.
/// </summary>
public sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<int> _listenerPorts = [];

    /// <summary>The folder made for this gateway when the test named none; a test's own folder stays the test's to delete.</summary>
    private readonly TempFolder? _ownFolder;

    private GatewayProcess(Process process, string directory, TempFolder? ownFolder)
    {
        _process = process;
        Directory = directory;
        _ownFolder = ownFolder;
    }

    public string Directory { get; }

    public string ConfigPath => Path.Combine(Directory, "gateway.json");

    public int Port => _listenerPorts[0];

    public IReadOnlyList<int> Ports => _listenerPorts;

    public int AdminPort { get; private set; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString() + _stderr.ToString();
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="config"/> to <paramref name="directory"/>, or to a temp folder of its own deleted on disposal,
    /// and starts the gateway on it; waits until both ports are bound.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(string config, bool aot = false, IDictionary<string, string>? environment = null, string? directory = null)
    {
        TempFolder? ownFolder = null;
        if (directory is null)
        {
            ownFolder = new TempFolder("gateway-test-");
            directory = ownFolder.Path;
        }
        var info = aot
            ? new ProcessStartInfo(RepoPaths.AotBinary)
            : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "gateway.dll") } };
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(Path.Combine(directory, "gateway.json"));
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.WorkingDirectory = directory;
        if (!aot)
        {
            // The JIT runtime opens a debugger pipe pair and a diagnostics socket in the temp directory and removes
            // them only on a clean exit: a gateway killed at disposal would leave three files behind per test.
            info.Environment["DOTNET_EnableDiagnostics"] = "0";
        }
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                info.Environment[k] = v;
            }
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var gateway = new GatewayProcess(process, directory, ownFolder);
        process.OutputDataReceived += (_, e) => gateway.OnLine(e.Data, gateway._stdout);
        process.ErrorDataReceived += (_, e) => gateway.OnLine(e.Data, gateway._stderr);
        process.Exited += (_, _) => gateway._ready.TrySetException(new InvalidOperationException("gateway exited during start-up:\n" + gateway.Output));
        try
        {
            await File.WriteAllTextAsync(gateway.ConfigPath, config);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await gateway._ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            // Whether the binary failed to start, exited or stalled: the process and the own folder go with the failure.
            await gateway.DisposeAsync();
            throw;
        }
        return gateway;
    }

    private void OnLine(string? line, StringBuilder sink)
    {
        if (line is null)
        {
            return;
        }
        lock (_stdout)
        {
            sink.AppendLine(line);
        }
        Match listener = ListenerBound().Match(line);
        if (listener.Success)
        {
            lock (_listenerPorts)
            {
                _listenerPorts.Add(int.Parse(listener.Groups[1].Value));
            }
        }
        Match admin = AdminBound().Match(line);
        if (admin.Success)
        {
            AdminPort = int.Parse(admin.Groups[1].Value);
        }
        if (line.Contains("gateway started", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>Log lines (JSON objects) whose event name or message contains <paramref name="text"/>.</summary>
    public IReadOnlyList<JsonNode> LogEntries(string text)
    {
        var result = new List<JsonNode>();
        foreach (string line in Output.Split('\n'))
        {
            if (line.StartsWith('{') && line.Contains(text, StringComparison.Ordinal) && JsonNode.Parse(line) is { } node)
            {
                result.Add(node);
            }
        }
        return result;
    }

    /// <summary>Waits until at least one log line contains <paramref name="text"/> (the gateway logs off the request path).</summary>
    public async Task<IReadOnlyList<JsonNode>> WaitForLogAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            IReadOnlyList<JsonNode> entries = LogEntries(text);
            if (entries.Count > 0 || DateTime.UtcNow > deadline)
            {
                return entries;
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            Signal(_process.Id, 15);
        }
        await _process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    public async Task<string> AdminGetAsync(string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync($"http://127.0.0.1:{AdminPort}{path}");
    }

    public async Task<HttpStatusCode> AdminStatusAsync(string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync($"http://127.0.0.1:{AdminPort}{path}");
        return response.StatusCode;
    }

    /// <summary>Resident set size of the gateway process in bytes, from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (string line in File.ReadAllLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
        }
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // No process to kill: it never started, or is already gone.
        }
        finally
        {
            // Also when the gateway outlives its kill: the folder goes, and the timeout still reaches the test after.
            _process.Dispose();
            _ownFolder?.Dispose();
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);

    [GeneratedRegex("listener \\S+ bound to [^\"]*:(\\d+)")]
    private static partial Regex ListenerBound();

    [GeneratedRegex("admin port bound to [^\"]*:(\\d+)")]
    private static partial Regex AdminBound();
}
