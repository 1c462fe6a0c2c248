using Gateway.Http.Messages;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Host;

/// <summary>
/// Carries a callout's result back to the owning worker, once (docs/proxy-wasm.md, 'Calls that wait'). If the dispatcher never
/// answers, a guard timer delivers Envoy's timeout shape (504, "upstream request timeout") so the plugin always
/// gets its callback.
/// </summary>
internal sealed class HttpCallCompletion
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    private readonly PluginVm _vm;
    private readonly uint _token;
    private readonly Timer _guard;
    private int _completed;

    public HttpCallCompletion(PluginVm vm, uint token, TimeSpan timeout)
    {
        _vm = vm;
        _token = token;
        _guard = new Timer(static s => ((HttpCallCompletion)s!).TimedOut(), this, timeout + Grace, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The call could not start: no callback will follow (docs/proxy-wasm.md, 'Calls that wait').</summary>
    public void Abandon()
    {
        Interlocked.Exchange(ref _completed, 1);
        _guard.Dispose();
    }

    private void TimedOut()
    {
        var response = new HttpResponseHead { StatusCode = 504 };
        response.Headers.Add("content-type", "text/plain");
        Complete(new HttpCallResult(true, response, "upstream request timeout"u8.ToArray(), "timeout"));
    }

    public void Complete(HttpCallResult result)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _guard.Dispose();
            _vm.Loop.Post(static s =>
            {
                var (completion, callResult) = ((HttpCallCompletion, HttpCallResult))s!;
                completion.Deliver(callResult);
            }, (this, result));
        }
    }

    private void Deliver(HttpCallResult result) => _vm.DeliverHttpCallResponse(_token, result);
}
