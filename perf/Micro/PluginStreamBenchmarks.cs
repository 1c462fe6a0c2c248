using BenchmarkDotNet.Attributes;
using Gateway.Http.Messages;
using Gateway.Http.Transport;
using Gateway.Plugins.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Perf.Micro;

/// <summary>
/// One plugin exchange through the public host API, on the worker thread that owns the VM:
/// begin a stream, request headers, response headers, complete. Each phase is a host → guest
/// callback (proxy_on_request_headers, proxy_on_response_headers, context create/done); add_header
/// also calls back into the host once per phase. The worker hop is amortized over
/// <see cref="Exchanges"/> exchanges per invocation. Needs artifacts/plugins (`make plugins`).
/// </summary>
public class PluginStreamBenchmarks
{
    private const int Exchanges = 1_000;

    private static readonly StreamInfo Info = new("all", "upstream",
        new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 40000),
        new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 8080), null, "HTTP/1.1");

    private readonly HttpRequestHead _request = new() { Method = "GET", Target = "/", Authority = "bench" };
    private readonly HttpResponseHead _response = new() { StatusCode = 200 };
    private PluginRuntime _runtime = null!;
    private WorkerLoop _loop = null!;
    private WorkerPlugins _worker = null!;
    private string[] _chain = null!;

    [Params("passthrough", "add_header")]
    public string Plugin { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var module = Path.Combine(RepoRoot(), "artifacts", "plugins", Plugin + ".wasm");
        if (!File.Exists(module))
        {
            throw new InvalidOperationException($"{module} not found: run `make plugins` first");
        }
        _runtime = PluginRuntime.Load([new PluginOptions { Name = Plugin, ModulePath = module }],
            new PluginServices { LoggerFactory = NullLoggerFactory.Instance }, out var errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("plugin did not load: " + string.Join("; ", errors));
        }
        _chain = [Plugin];
        _loop = new WorkerLoop(0);
        _loop.RunAsync(() =>
        {
            _worker = _runtime.CreateWorker(_loop);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();
        foreach (var (name, value) in HeaderSamples.Request)
        {
            _request.Headers.Add(name, value);
        }
        _response.Headers.Add("content-type", "text/plain");
        _response.Headers.Add("content-length", "13");
    }

    [Benchmark(OperationsPerInvoke = Exchanges)]
    public void RequestAndResponseHeaders() => _loop.RunAsync(RunExchanges).GetAwaiter().GetResult();

    private async Task RunExchanges()
    {
        for (var i = 0; i < Exchanges; i++)
        {
            var stream = _worker.BeginStream(_chain, Info);
            var onRequest = await stream.OnRequestHeadersAsync(_request, true);
            var onResponse = await stream.OnResponseHeadersAsync(_response, false);
            stream.Complete();
            if (onRequest.Action != FilterAction.Continue || onResponse.Action != FilterAction.Continue)
            {
                throw new InvalidOperationException($"{Plugin} did not continue: {onRequest.Action}/{onResponse.Action}");
            }
            // add_header appends on every exchange; keep the maps the same size from one exchange to the next.
            _request.Headers.Remove("x-gateway-request");
            _response.Headers.Remove("x-gateway-response");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.RunAsync(() =>
        {
            _worker.Dispose();
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();
        _loop.Dispose();
        _runtime.Dispose();
    }

    private static string RepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new InvalidOperationException("Gateway.sln not found above the current directory");
    }
}
