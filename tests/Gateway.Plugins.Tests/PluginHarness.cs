using System.Collections.Concurrent;
using Gateway.Http.Messages;
using Gateway.Http.Transport;
using Gateway.Plugins.Runtime;
using Gateway.Testing;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Tests;

/// <summary>A plugin runtime with one or more workers, driven from the test thread.</summary>
internal sealed class PluginHarness : IDisposable
{
    private readonly List<(WorkerLoop Loop, WorkerPlugins Plugins)> _workers = [];

    private PluginHarness(PluginRuntime runtime, CapturingLoggerFactory logs)
    {
        Runtime = runtime;
        Logs = logs;
    }

    public PluginRuntime Runtime { get; }

    public CapturingLoggerFactory Logs { get; }

    public static PluginHarness Start(PluginOptions[] plugins, int workers = 1, IHttpCallDispatcher? httpCalls = null)
    {
        var logs = new CapturingLoggerFactory();
        var runtime = PluginRuntime.Load(plugins, new PluginServices { LoggerFactory = logs, HttpCalls = httpCalls }, out var errors);
        Assert.Empty(errors);
        var harness = new PluginHarness(runtime, logs);
        for (int i = 0; i < workers; i++)
        {
            var loop = new WorkerLoop(i);
            var created = loop.RunOnWorker(() => Task.FromResult(runtime.CreateWorker(loop)));
            harness._workers.Add((loop, created.GetAwaiter().GetResult()));
        }
        return harness;
    }

    public static PluginOptions Plugin(string name, string module, string configuration, FailurePolicy policy = FailurePolicy.Closed) => new()
    {
        Name = name,
        ModulePath = TestPlugins.Path(module),
        Configuration = configuration,
        FailurePolicy = policy,
        // The JIT build compiles each host import on its first use, inside the guest's first callbacks; on a loaded
        // machine that alone can pass 5 ms. Behaviour tests get room for it; DeadlineTests set the real budget.
        Limits = new PluginLimits { CpuMillisecondsPerCall = 1000 },
    };

    public WorkerLoop Loop(int worker = 0) => _workers[worker].Loop;

    /// <summary>Runs <paramref name="work"/> on a worker thread with that worker's plugins.</summary>
    public Task<T> OnWorker<T>(Func<WorkerPlugins, Task<T>> work, int worker = 0) =>
        _workers[worker].Loop.RunOnWorker(() => work(_workers[worker].Plugins));

    public static StreamInfo Info(string route = "route-a") => new(
        route, "cluster-a",
        new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 40000),
        new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 8080),
        new FixedRequestId("req-1"), "HTTP/1.1");

    private sealed class FixedRequestId(string id) : IRequestIdSource
    {
        public string RequestId => id;
    }

    public static HttpRequestHead Get(string path, params (string Name, string Value)[] headers)
    {
        var head = new HttpRequestHead { Method = "GET", Target = path, Authority = "example.test", Scheme = "http" };
        foreach (var (name, value) in headers)
        {
            head.Headers.Add(name, value);
        }
        return head;
    }

    public void Dispose()
    {
        foreach (var (loop, plugins) in _workers)
        {
            loop.RunOnWorker(() =>
            {
                plugins.Dispose();
                return Task.FromResult(0);
            }).Wait(TimeSpan.FromSeconds(10));
            loop.Dispose();
        }
        Runtime.Dispose();
    }
}

/// <summary>Finds the test plugins under artifacts/plugins/testdata, building them with make once if they are missing.</summary>
internal static class TestPlugins
{
    private static readonly Lazy<string> Directory = new(Build);

    public static string RepoRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "Gateway.sln")))
            {
                directory = directory.Parent;
            }
            return directory?.FullName ?? throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Path(string module)
    {
        string path = System.IO.Path.Combine(Directory.Value, module + ".wasm");
        Assert.True(File.Exists(path), $"test plugin {path} is missing; run `make -C plugins/testdata`");
        return path;
    }

    private static string Build()
    {
        string root = RepoRoot;
        string output = System.IO.Path.Combine(root, "artifacts", "plugins", "testdata");
        string[] modules = ["behaviors.wasm", "as_headers.wasm", "higress_hold.wasm", "log_flood.wasm", "sdk/go_wasip1.wasm", "sdk/trailers.wasm", "sdk/end_of_stream.wasm", "malformed/start_traps.wasm"];
        if (!Array.TrueForAll(modules, module => File.Exists(System.IO.Path.Combine(output, module))))
        {
            // A build from scratch (the Go and AssemblyScript modules too) takes minutes; one that hangs fails the run.
            var (exit, _, errors) = CommandRun.CaptureAsync("make", ["-C", System.IO.Path.Combine(root, "plugins", "testdata")], limit: TimeSpan.FromMinutes(10))
                .GetAwaiter().GetResult();
            if (exit != 0)
            {
                throw new InvalidOperationException("building the test plugins failed (make -C plugins/testdata): " + errors);
            }
        }
        return output;
    }
}

/// <summary>Keeps every log line so tests can assert on what plugins logged.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines { get; } = new();

    public bool Contains(string text) => Lines.Any(l => l.Message.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(CapturingLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            factory.Lines.Enqueue((category, logLevel, formatter(state, exception)));
    }
}
