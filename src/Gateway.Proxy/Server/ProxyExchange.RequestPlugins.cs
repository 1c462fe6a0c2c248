using System.Runtime.CompilerServices;
using Gateway.Http.Async;
using Gateway.Http.Messages;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Runtime;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Logging;
using Gateway.Proxy.Routing;

namespace Gateway.Proxy.Server;

/// <summary>Phase 2 of an exchange: the request head through the route's plugins, and a head they hold for its body.</summary>
internal sealed partial class ProxyExchange
{
    /// <summary>Phase 2: the request head through the plugins, re-routing as they ask; false when the exchange ends here.</summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    private async ValueTask<bool> FilterRequestHeadAsync(WorkerState worker, PluginStream filters)
    {
        ExchangeState s = _state;
        HttpRequestHead request = s.Request;
        s.Access.Plugins = PluginOutcomes.Continue;
        FilterOutcome outcome = await _client.PluginDeadline.WithinAsync(filters, filters.OnRequestHeadersAsync(request, endOfStream: !s.HasBody), s.Route!.Cluster.Options.RequestTimeoutMs);
        // Ends: every pass either returns or adds at least one plugin that was not in the chain.
        while (true)
        {
            if (outcome.Action == FilterAction.HoldHeaders && !_heldBody.Active)
            {
                // ABI §2.3 (0.2.100): a plugin decides on the body before the head may go.
                if (!await ReceiveHeldBodyAsync(filters))
                {
                    return false;
                }
            }
            else if (outcome.Action is not (FilterAction.Continue or FilterAction.HoldHeaders))
            {
                s.Filtered(outcome, ExchangeStage.RequestHeaders);
                return false;
            }
            // ABI §3.3 [POLICY]: changed request headers re-route the request, as in Envoy, unless the plugin kept the
            // route cache. The chain already running finishes the exchange; the new route picks the cluster, and
            // its plugins that have not run yet run now, so re-routing never steps around another route's checks.
            if (!filters.RouteInvalidated)
            {
                return true;
            }
            Route? rerouted = s.Snapshot.Routes.Match(request.Authority, request.Path);
            if (rerouted is null)
            {
                s.Fail(new ExchangeError(ExchangeStage.Routing, ExchangeFault.NoRoute));
                return false;
            }
            s.Route = rerouted;
            int added = worker.Plugins!.ExtendStream(filters, rerouted.Plugins);
            if (added < 0)
            {
                return true;
            }
            outcome = await _client.PluginDeadline.WithinAsync(filters, filters.OnReroutedRequestHeadersAsync(added), rerouted.Cluster.Options.RequestTimeoutMs);
        }
    }

    /// <summary>The seam after phase 2 for a held request head; false when the exchange ends here.</summary>
    private async ValueTask<bool> ReceiveHeldBodyAsync(PluginStream filters)
    {
        ExchangeState s = _state;
        HttpRequestHead request = s.Request;
        if (request.ExpectContinue)
        {
            // EX-3: the body is wanted now, for the plugins.
            await ContinueAsync();
        }
        BodyTransfer transfer = RequestBody(_heldBody.Writer, chunkedOut: false, filters, _client.Watchdog);
        PumpStatus received = await _heldBody.ReceiveAsync(_requestPump, transfer, _client.Watchdog, s.Snapshot.Limits);
        if (received == PumpStatus.Completed)
        {
            s.BodyRead = true;
        }
        else if (received != PumpStatus.HeadReleased)
        {
            s.RequestBodyFailed(received, _requestPump, _client.Watchdog.Expired);
            return false;
        }
        return true;
    }
}
